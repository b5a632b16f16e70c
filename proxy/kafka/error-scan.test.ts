import { describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from './api-keys.ts';
import { canScanErrorCode, scanErrorCode } from './error-scan.ts';
import { kafkaJsDecode } from './kafkajs-oracle.ts';
import { Writer } from './writer.ts';

interface Part {
  partition: number;
  errorCode: number;
}

function produceV0(topics: { name: string; partitions: Part[] }[]): Buffer {
  return new Writer()
    .writeArray(topics, (w, t) => {
      w.writeString(t.name).writeArray(t.partitions, (w2, p) => w2.writeInt32(p.partition).writeInt16(p.errorCode).writeInt64(5n));
    })
    .toBuffer();
}

function fetchV0(topics: { name: string; partitions: (Part & { records: Buffer })[] }[]): Buffer {
  return new Writer()
    .writeArray(topics, (w, t) => {
      w.writeString(t.name).writeArray(t.partitions, (w2, p) => {
        w2.writeInt32(p.partition).writeInt16(p.errorCode).writeInt64(10n).writeBytes(p.records);
      });
    })
    .toBuffer();
}

function listOffsetsV0(partitions: (Part & { offsets: bigint[] })[]): Buffer {
  return new Writer()
    .writeArray([0], (w) => {
      w.writeString('topic').writeArray(partitions, (w2, p) => {
        w2.writeInt32(p.partition).writeInt16(p.errorCode).writeArray(p.offsets, (w3, o) => w3.writeInt64(o));
      });
    })
    .toBuffer();
}

describe('scanErrorCode', () => {
  it('finds a Produce v0 error in a later topic, as KafkaJS sees it', async () => {
    const body = produceV0([
      { name: 'ok', partitions: [{ partition: 0, errorCode: 0 }] },
      { name: 'bad', partitions: [{ partition: 0, errorCode: 0 }, { partition: 1, errorCode: ErrorCode.NotLeaderForPartition }] },
    ]);
    expect(scanErrorCode(ApiKey.Produce, 0, body, 0)).toBe(ErrorCode.NotLeaderForPartition);
    const kjs = await kafkaJsDecode('produce', 0, body);
    expect(JSON.stringify(kjs)).toContain(`"errorCode":${ErrorCode.NotLeaderForPartition}`);
    expect(scanErrorCode(ApiKey.Produce, 0, produceV0([{ name: 'ok', partitions: [{ partition: 0, errorCode: 0 }] }]), 0)).toBe(0);
  });

  it('skips Fetch v0 record sets by length to reach later partitions', () => {
    const body = fetchV0([
      {
        name: 't',
        partitions: [
          { partition: 0, errorCode: 0, records: Buffer.alloc(10_000, 0xff) },
          { partition: 1, errorCode: ErrorCode.OffsetOutOfRange, records: Buffer.alloc(0) },
        ],
      },
    ]);
    expect(scanErrorCode(ApiKey.Fetch, 0, body, 0)).toBe(ErrorCode.OffsetOutOfRange);
    // v1–v3 put a throttle time first.
    const v1 = Buffer.concat([Buffer.from([0, 0, 0, 9]), body]);
    expect(scanErrorCode(ApiKey.Fetch, 1, v1, 0)).toBe(ErrorCode.OffsetOutOfRange);
  });

  it('reads ListOffsets v0 past variable offset lists', () => {
    const body = listOffsetsV0([
      { partition: 0, errorCode: 0, offsets: [1n, 2n, 3n] },
      { partition: 1, errorCode: ErrorCode.UnknownTopicOrPartition, offsets: [] },
    ]);
    expect(scanErrorCode(ApiKey.ListOffsets, 0, body, 0)).toBe(ErrorCode.UnknownTopicOrPartition);
  });

  it('starts at the given offset (after the response header)', () => {
    const body = produceV0([{ name: 'x', partitions: [{ partition: 0, errorCode: ErrorCode.MessageTooLarge }] }]);
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), body]);
    expect(scanErrorCode(ApiKey.Produce, 0, frame, 8)).toBe(ErrorCode.MessageTooLarge);
  });

  it('answers null for truncated bodies and versions it does not read', () => {
    const body = fetchV0([{ name: 't', partitions: [{ partition: 0, errorCode: 0, records: Buffer.alloc(50) }] }]);
    expect(scanErrorCode(ApiKey.Fetch, 0, body.subarray(0, body.length - 1), 0)).toBeNull();
    expect(scanErrorCode(ApiKey.Fetch, 12, body, 0)).toBeNull();
    expect(scanErrorCode(ApiKey.Metadata, 0, body, 0)).toBeNull();
    expect(canScanErrorCode(ApiKey.Produce, 7)).toBe(true);
    expect(canScanErrorCode(ApiKey.Produce, 8)).toBe(false);
  });
});
