import { describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from './api-keys.ts';
import { KafkaDecodeError } from './errors.ts';
import { decodeRequestHeader, frameReader } from './headers.ts';
import { kafkaJsDecode, kafkaJsParse, kafkaJsRequestFrame } from './kafkajs-oracle.ts';
import {
  decodeListOffsetsRequestV0,
  decodeListOffsetsResponseV0,
  EARLIEST_TIMESTAMP,
  encodeListOffsetsRequestV0,
  encodeListOffsetsResponseV0,
  LATEST_TIMESTAMP,
  type ListOffsetsRequestV0,
  type ListOffsetsResponseV0,
} from './list-offsets-v0.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

const REQUEST: ListOffsetsRequestV0 = {
  replicaId: -1,
  topics: [
    {
      topic: 'events',
      partitions: [
        { partition: 0, timestamp: LATEST_TIMESTAMP, maxNumOffsets: 2 },
        { partition: 1, timestamp: EARLIEST_TIMESTAMP, maxNumOffsets: 1 },
        { partition: 2, timestamp: 1_700_000_000_000n, maxNumOffsets: 5 },
      ],
    },
  ],
};

const RESPONSE: ListOffsetsResponseV0 = {
  topics: [
    {
      topic: 'events',
      partitions: [
        { partition: 0, errorCode: ErrorCode.None, offsets: [12n, 3n] },
        { partition: 1, errorCode: ErrorCode.None, offsets: [3n] },
        { partition: 9, errorCode: ErrorCode.UnknownTopicOrPartition, offsets: [] },
      ],
    },
  ],
};

const encode = <T>(fn: (d: T, w: Writer) => Writer, data: T) => Buffer.from(fn(data, new Writer()).toBuffer());

describe('ListOffsets v0', () => {
  it('round-trips a request', () => {
    const r = new Reader(encode(encodeListOffsetsRequestV0, REQUEST));
    expect(decodeListOffsetsRequestV0(r)).toEqual(REQUEST);
    expect(r.remaining).toBe(0);
  });

  it('round-trips a response with a non-zero error code', () => {
    expect(decodeListOffsetsResponseV0(new Reader(encode(encodeListOffsetsResponseV0, RESPONSE)))).toEqual(RESPONSE);
  });

  it('throws KafkaDecodeError on truncated bytes', () => {
    const request = encode(encodeListOffsetsRequestV0, REQUEST);
    const response = encode(encodeListOffsetsResponseV0, RESPONSE);
    for (let cut = 0; cut < request.length; cut++) {
      expect(() => decodeListOffsetsRequestV0(new Reader(request.subarray(0, cut)))).toThrow(KafkaDecodeError);
    }
    for (let cut = 0; cut < response.length; cut++) {
      expect(() => decodeListOffsetsResponseV0(new Reader(response.subarray(0, cut)))).toThrow(KafkaDecodeError);
    }
  });

  it('decodes the request KafkaJS sends', async () => {
    const frame = await kafkaJsRequestFrame(
      'listOffsets',
      0,
      { replicaId: -1, topics: [{ topic: 'events', partitions: [{ partition: 0, timestamp: -2 }, { partition: 1 }] }] },
      { correlationId: 3, clientId: 'oracle' },
    );
    const r = frameReader(frame);
    expect(decodeRequestHeader(r)).toMatchObject({ apiKey: ApiKey.ListOffsets, apiVersion: 0, correlationId: 3 });
    expect(decodeListOffsetsRequestV0(r)).toEqual({
      replicaId: -1,
      topics: [
        {
          topic: 'events',
          partitions: [
            { partition: 0, timestamp: EARLIEST_TIMESTAMP, maxNumOffsets: 1 },
            { partition: 1, timestamp: LATEST_TIMESTAMP, maxNumOffsets: 1 },
          ],
        },
      ],
    });
  });

  it('encodes a response KafkaJS decodes, and KafkaJS raises our error code', async () => {
    expect(await kafkaJsDecode('listOffsets', 0, encode(encodeListOffsetsResponseV0, RESPONSE))).toEqual({
      responses: [
        {
          topic: 'events',
          partitions: [
            { partition: 0, errorCode: 0, offsets: ['12', '3'] },
            { partition: 1, errorCode: 0, offsets: ['3'] },
            { partition: 9, errorCode: 3, offsets: [] },
          ],
        },
      ],
    });
    await expect(kafkaJsParse('listOffsets', 0, encode(encodeListOffsetsResponseV0, RESPONSE))).rejects.toMatchObject({
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
  });
});
