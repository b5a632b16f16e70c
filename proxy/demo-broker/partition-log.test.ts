import { describe, expect, it } from 'vitest';
import { decodeMessageSetV0, encodeMessageSetV0 } from '../kafka/message-set-v0.ts';
import { PartitionLog } from './partition-log.ts';

const entries = (...values: string[]) => decodeMessageSetV0(encodeMessageSetV0(values.map((v) => ({ key: null, value: Buffer.from(v) })))).messages.map((m) => m.entry);
const values = (set: Buffer) => decodeMessageSetV0(set).messages.map((m) => [m.offset, m.value?.toString()]);

describe('PartitionLog', () => {
  it('copies what it stores, so the request bytes can be reused', () => {
    const log = new PartitionLog({ retentionMessages: 10, retentionBytes: 1 << 20 });
    const [entry] = entries('original');
    log.append([entry]);
    entry.fill(0);
    expect(values(log.read(0n, 1000))).toEqual([[0n, 'original']]);
  });

  it('bounds the bytes it holds, keeping at least the newest message', () => {
    const one = entries('x'.repeat(100))[0].length;
    const log = new PartitionLog({ retentionMessages: 1000, retentionBytes: 3 * one });
    log.append(entries(...'abcde'.split('').map((c) => c.repeat(100))));
    expect([log.logStartOffset, log.highWatermark, log.size, log.bytes]).toEqual([2n, 5n, 3, 3 * one]);
    log.append(entries('y'.repeat(5000)));
    expect([log.logStartOffset, log.size]).toEqual([5n, 1]);
  });

  it('keeps reading the right offsets after dropping many messages', () => {
    const log = new PartitionLog({ retentionMessages: 100, retentionBytes: 1 << 30 });
    for (let i = 0; i < 5000; i++) log.append(entries(String(i)));
    expect([log.logStartOffset, log.highWatermark, log.size]).toEqual([4900n, 5000n, 100]);
    expect(values(log.read(4998n, 1 << 20))).toEqual([
      [4998n, '4998'],
      [4999n, '4999'],
    ]);
    expect(log.inRange(4899n)).toBe(false);
    expect(log.inRange(5000n)).toBe(true);
  });

  it('answers ListOffsets by time as Kafka 0.8 does for a one-segment log', () => {
    let now = 1000;
    const log = new PartitionLog({ retentionMessages: 10, retentionBytes: 1 << 20, now: () => now });
    expect(log.offsetsBefore(500n, 5)).toEqual([]);
    expect(log.offsetsBefore(1000n, 5)).toEqual([0n]);
    now = 2000;
    log.append(entries('a', 'b'));
    now = 3000;
    // Segment (0, modified at 2000) and log end (2, now = 3000).
    expect(log.offsetsBefore(1999n, 5)).toEqual([]);
    expect(log.offsetsBefore(2500n, 5)).toEqual([0n]);
    expect(log.offsetsBefore(3000n, 5)).toEqual([2n, 0n]);
    expect(log.offsetsBefore(3000n, 1)).toEqual([2n]);
    expect(log.offsetsBefore(-1n, 5)).toEqual([2n, 0n]);
    expect(log.offsetsBefore(-2n, 5)).toEqual([0n]);
  });

  it('measures what a fetch would return without copying', () => {
    const log = new PartitionLog({ retentionMessages: 10, retentionBytes: 1 << 20 });
    const [a, b] = entries('aaaa', 'bbbb');
    log.append([a, b]);
    expect(log.available(0n, 1 << 20)).toBe(a.length + b.length);
    expect(log.available(0n, a.length + 1)).toBe(a.length);
    expect(log.available(0n, 5)).toBe(5);
    expect(log.available(2n, 100)).toBe(0);
  });
});
