import { describe, expect, it } from 'vitest';
import { ApiKey } from './api-keys.ts';
import { kafkaJsRequestFrame } from './kafkajs-oracle.ts';
import { readProduceAcks } from './produce-acks.ts';
import { requestFrame } from './test-frames.ts';

const topicData = [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v' }] }] }];

describe('readProduceAcks', () => {
  it.each([0, 1, 2, 3, 5, 7])('reads acks from the v%i requests KafkaJS writes', async (version) => {
    for (const acks of [0, 1, -1]) {
      const frame = await kafkaJsRequestFrame('produce', version, { acks, timeout: 1000, topicData, transactionalId: 'tx-1' }, {
        correlationId: 1,
        clientId: 'a-longer-client-id',
      });
      expect(readProduceAcks(frame)).toBe(acks);
    }
  });

  it('reads acks behind tagged header fields and a compact transactional id (v9+)', () => {
    const frame = requestFrame(ApiKey.Produce, 9, 4, (w) => {
      w.writeCompactNullableString('txn').writeInt16(0).writeInt32(100);
    });
    expect(readProduceAcks(frame)).toBe(0);
    const nullTxn = requestFrame(ApiKey.Produce, 11, 4, (w) => w.writeCompactNullableString(null).writeInt16(-1));
    expect(readProduceAcks(nullTxn)).toBe(-1);
  });

  it('says null rather than guessing on a truncated frame', () => {
    const frame = requestFrame(ApiKey.Produce, 3, 4, (w) => w.writeNullableString('transactional').writeInt16(0));
    expect(readProduceAcks(frame.subarray(0, frame.length - 1))).toBeNull();
    expect(readProduceAcks(frame.subarray(0, 8))).toBeNull();
  });
});
