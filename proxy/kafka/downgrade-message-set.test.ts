import { crc32, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { lowerMessageSet } from './downgrade-message-set.ts';
import { KafkaDecodeError } from './errors.ts';
import { decodeMessageSetV0, encodeMessageSetV0 } from './message-set-v0.ts';
import { Writer } from './writer.ts';

interface V1 {
  offset?: bigint;
  key: Buffer | null;
  value: Buffer | null;
  timestamp?: bigint;
  attributes?: number;
  magic?: number;
  /** Overrides the computed CRC. */
  crc?: number;
}

/** One entry in message format v1 (or another magic), built by hand with our Writer. */
function entryV1(m: V1): Buffer {
  const body = new Writer()
    .writeInt8(m.magic ?? 1)
    .writeInt8(m.attributes ?? 0)
    .writeInt64(m.timestamp ?? 1_700_000_000_000n)
    .writeNullableBytes(m.key)
    .writeNullableBytes(m.value)
    .toBuffer();
  return Buffer.from(
    new Writer()
      .writeInt64(m.offset ?? 0n)
      .writeInt32(4 + body.length)
      .writeUInt32(m.crc ?? crc32(body))
      .writeRaw(body)
      .toBuffer(),
  );
}

const text = (b: Buffer | null) => b?.toString() ?? null;

describe('lowerMessageSet', () => {
  it('lowers uncompressed v1 messages to v0 with fresh CRCs, keeping offsets, keys and values', () => {
    const set = Buffer.concat([
      entryV1({ offset: 0n, key: Buffer.from('p0'), value: Buffer.from('python zero') }),
      // Bit 3 (log-append timestamp type) exists only in v1 and must not reach a v0 message.
      entryV1({ offset: 1n, key: null, value: Buffer.from(''), attributes: 0x08 }),
      entryV1({ offset: 2n, key: Buffer.from('k'), value: null }),
    ]);
    const lowered = lowerMessageSet(set);
    expect(lowered.kept).toBe(0);
    expect(lowered.set.length).toBe(set.length - 3 * 8);
    const decoded = decodeMessageSetV0(lowered.set);
    expect(decoded.partialBytes).toBe(0);
    expect(decoded.messages.map((m) => [m.offset, m.magic, m.attributes, m.crcValid, text(m.key), text(m.value)])).toEqual([
      [0n, 0, 0, true, 'p0', 'python zero'],
      [1n, 0, 0, true, null, ''],
      [2n, 0, 0, true, 'k', null],
    ]);
  });

  it('returns a v0 set as the very same buffer', () => {
    const set = encodeMessageSetV0([{ key: Buffer.from('a'), value: Buffer.from('1') }]);
    expect(lowerMessageSet(set)).toEqual({ set, kept: 0 });
    expect(lowerMessageSet(set).set).toBe(set);
    expect(lowerMessageSet(Buffer.alloc(0)).set.length).toBe(0);
  });

  it('lowers v1 messages mixed with v0 ones, copying the v0 entries byte for byte', () => {
    const v0 = encodeMessageSetV0([{ offset: 7n, key: null, value: Buffer.from('old') }]);
    const set = Buffer.concat([v0, entryV1({ key: null, value: Buffer.from('new') }), v0]);
    const lowered = lowerMessageSet(set);
    expect(lowered.set.subarray(0, v0.length)).toEqual(v0);
    expect(lowered.set.subarray(lowered.set.length - v0.length)).toEqual(v0);
    expect(decodeMessageSetV0(lowered.set).messages.map((m) => text(m.value))).toEqual(['old', 'new', 'old']);
  });

  it('passes a compressed v1 wrapper on unchanged for the broker to refuse, and counts it', () => {
    const inner = entryV1({ key: null, value: Buffer.from('inside') });
    const wrapper = entryV1({ key: null, value: gzipSync(inner), attributes: 1 });
    const plain = entryV1({ key: null, value: Buffer.from('plain') });
    const lowered = lowerMessageSet(Buffer.concat([plain, wrapper]));
    expect(lowered.kept).toBe(1);
    expect(lowered.set.subarray(lowered.set.length - wrapper.length)).toEqual(wrapper);
  });

  it('does not launder a v1 message whose CRC is wrong: it goes on unchanged', () => {
    const bad = entryV1({ key: null, value: Buffer.from('x'), crc: 12345 });
    const lowered = lowerMessageSet(bad);
    expect(lowered).toEqual({ set: bad, kept: 1 });
  });

  it('throws KafkaDecodeError on a set no producer sends', () => {
    const good = entryV1({ key: Buffer.from('k'), value: Buffer.from('v') });
    for (let cut = 1; cut < good.length; cut++) {
      expect(() => lowerMessageSet(good.subarray(0, cut)), `cut at ${cut}`).toThrow(KafkaDecodeError);
    }
    expect(() => lowerMessageSet(entryV1({ key: null, value: Buffer.from('v'), magic: 2 }))).toThrow(/format v2 cannot be lowered/);
    // A key length that runs past the message: the CRC matches, the grammar does not.
    const body = new Writer().writeInt8(1).writeInt8(0).writeInt64(0n).writeInt32(1).writeRaw(Buffer.from('kv')).writeInt32(-1).toBuffer();
    const bent = Buffer.from(new Writer().writeInt64(0n).writeInt32(4 + body.length).writeUInt32(crc32(body)).writeRaw(body).toBuffer());
    expect(() => lowerMessageSet(bent)).toThrow(KafkaDecodeError);
  });
});
