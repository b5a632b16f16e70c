import { describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from './api-keys.ts';
import { KafkaDecodeError } from './errors.ts';
import { decodeRequestHeader, frameReader } from './headers.ts';
import { kafkaJsDecode, kafkaJsParse, kafkaJsRequestFrame } from './kafkajs-oracle.ts';
import { decodeMessageSetV0, encodeMessageSetV0 } from './message-set-v0.ts';
import {
  decodeProduceRequestV0,
  decodeProduceResponseV0,
  encodeProduceRequestV0,
  encodeProduceResponseV0,
  type ProduceRequestV0,
  type ProduceResponseV0,
} from './produce-v0.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

const REQUEST: ProduceRequestV0 = {
  acks: -1,
  timeoutMs: 1500,
  topics: [
    {
      topic: 'orders',
      partitions: [
        { partition: 0, messageSet: encodeMessageSetV0([{ key: Buffer.from('a'), value: Buffer.from('1') }]) },
        { partition: 2, messageSet: Buffer.alloc(0) },
      ],
    },
    { topic: 'events', partitions: [{ partition: 1, messageSet: encodeMessageSetV0([{ key: null, value: Buffer.from('x') }]) }] },
  ],
};

const RESPONSE: ProduceResponseV0 = {
  topics: [
    {
      topic: 'orders',
      partitions: [
        { partition: 0, errorCode: ErrorCode.None, baseOffset: 41n },
        { partition: 2, errorCode: ErrorCode.CorruptMessage, baseOffset: -1n },
      ],
    },
  ],
};

const encode = <T>(fn: (d: T, w: Writer) => Writer, data: T) => Buffer.from(fn(data, new Writer()).toBuffer());

describe('Produce v0', () => {
  it('round-trips a request', () => {
    const bytes = encode(encodeProduceRequestV0, REQUEST);
    const r = new Reader(bytes);
    expect(decodeProduceRequestV0(r)).toEqual(REQUEST);
    expect(r.remaining).toBe(0);
  });

  it('round-trips a response with a non-zero error code', () => {
    const bytes = encode(encodeProduceResponseV0, RESPONSE);
    expect(decodeProduceResponseV0(new Reader(bytes))).toEqual(RESPONSE);
  });

  it('reads a null message set as empty', () => {
    const w = new Writer().writeInt16(1).writeInt32(100).writeInt32(1).writeString('t').writeInt32(1).writeInt32(0).writeInt32(-1);
    expect(decodeProduceRequestV0(new Reader(w.toBuffer())).topics[0].partitions[0].messageSet.length).toBe(0);
  });

  it('throws KafkaDecodeError on truncated bytes, at every cut point', () => {
    const request = encode(encodeProduceRequestV0, REQUEST);
    const response = encode(encodeProduceResponseV0, RESPONSE);
    for (let cut = 0; cut < request.length; cut++) {
      expect(() => decodeProduceRequestV0(new Reader(request.subarray(0, cut)))).toThrow(KafkaDecodeError);
    }
    for (let cut = 0; cut < response.length; cut++) {
      expect(() => decodeProduceResponseV0(new Reader(response.subarray(0, cut)))).toThrow(KafkaDecodeError);
    }
  });

  it('decodes the request KafkaJS sends', async () => {
    const frame = await kafkaJsRequestFrame(
      'produce',
      0,
      {
        acks: 1,
        timeout: 30000,
        topicData: [{ topic: 'orders', partitions: [{ partition: 3, messages: [{ key: 'k', value: 'v1' }, { key: null, value: 'v2' }] }] }],
      },
      { correlationId: 7, clientId: 'oracle' },
    );
    const r = frameReader(frame);
    expect(decodeRequestHeader(r)).toMatchObject({ apiKey: ApiKey.Produce, apiVersion: 0, correlationId: 7, clientId: 'oracle' });
    const request = decodeProduceRequestV0(r);
    expect(r.remaining).toBe(0);
    expect(request).toMatchObject({ acks: 1, timeoutMs: 30000 });
    const [p] = request.topics[0].partitions;
    expect(p.partition).toBe(3);
    const { messages } = decodeMessageSetV0(p.messageSet);
    expect(messages.map((m) => [m.key?.toString() ?? null, m.value?.toString(), m.crcValid])).toEqual([
      ['k', 'v1', true],
      [null, 'v2', true],
    ]);
  });

  it('encodes a response KafkaJS decodes, and KafkaJS raises our error code', async () => {
    const decoded = await kafkaJsDecode('produce', 0, encode(encodeProduceResponseV0, RESPONSE));
    expect(decoded).toEqual({
      topics: [
        {
          topicName: 'orders',
          partitions: [
            { partition: 0, errorCode: 0, offset: '41' },
            { partition: 2, errorCode: 2, offset: '-1' },
          ],
        },
      ],
    });
    await expect(kafkaJsParse('produce', 0, encode(encodeProduceResponseV0, RESPONSE))).rejects.toMatchObject({
      type: 'CORRUPT_MESSAGE',
    });
  });
});
