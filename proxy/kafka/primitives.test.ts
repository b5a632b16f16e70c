import { describe, expect, it } from 'vitest';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';
import { KafkaDecodeError } from './errors.ts';

describe('Reader and Writer', () => {
  it('round-trip every primitive', () => {
    const w = new Writer(1)
      .writeInt8(-5)
      .writeInt16(-300)
      .writeInt32(-70000)
      .writeInt64(-(2n ** 40n))
      .writeUnsignedVarint(300)
      .writeVarint(-3)
      .writeString('héllo')
      .writeNullableString(null)
      .writeCompactString('abc')
      .writeCompactNullableString(null)
      .writeBytes(Buffer.from([1, 2]))
      .writeNullableBytes(null)
      .writeCompactBytes(Buffer.from([9]))
      .writeArray([1, 2, 3], (w2, v) => w2.writeInt32(v))
      .writeCompactArray(['x', 'y'], (w2, v) => w2.writeCompactString(v))
      .writeTaggedFields([{ tag: 2, data: Buffer.from([7, 7]) }])
      .writeBoolean(true);
    const r = new Reader(w.toBuffer());
    expect(r.readInt8()).toBe(-5);
    expect(r.readInt16()).toBe(-300);
    expect(r.readInt32()).toBe(-70000);
    expect(r.readInt64()).toBe(-(2n ** 40n));
    expect(r.readUnsignedVarint()).toBe(300);
    expect(r.readVarint()).toBe(-3);
    expect(r.readString()).toBe('héllo');
    expect(r.readNullableString()).toBeNull();
    expect(r.readCompactString()).toBe('abc');
    expect(r.readCompactNullableString()).toBeNull();
    expect([...r.readBytes()]).toEqual([1, 2]);
    expect(r.readNullableBytes()).toBeNull();
    expect([...r.readCompactBytes()]).toEqual([9]);
    expect(r.readArray((r2) => r2.readInt32())).toEqual([1, 2, 3]);
    expect(r.readCompactArray((r2) => r2.readCompactString())).toEqual(['x', 'y']);
    const tags = r.readTaggedFields();
    expect(tags.map((t) => [t.tag, [...t.data]])).toEqual([[2, [7, 7]]]);
    expect(r.readBoolean()).toBe(true);
    expect(r.remaining).toBe(0);
  });

  it('encodes unsigned varints as LEB128', () => {
    expect([...new Writer().writeUnsignedVarint(0).toBuffer()]).toEqual([0]);
    expect([...new Writer().writeUnsignedVarint(127).toBuffer()]).toEqual([0x7f]);
    expect([...new Writer().writeUnsignedVarint(128).toBuffer()]).toEqual([0x80, 0x01]);
    expect(new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])).readUnsignedVarint()).toBe(0xffffffff);
  });

  it('refuses an array count that cannot fit in the bytes left, before allocating', () => {
    const r = new Reader(new Writer().writeInt32(0x7fffffff).toBuffer());
    expect(() => r.readArray((r2) => r2.readInt8())).toThrow(expect.objectContaining({ code: 'KAFKA_TRUNCATED' }));
  });

  it('refuses negative lengths with a coded error', () => {
    expect(() => new Reader(new Writer().writeInt32(-2).toBuffer()).readArray((r) => r.readInt8())).toThrow(KafkaDecodeError);
    expect(() => new Reader(new Writer().writeInt16(-7).toBuffer()).readNullableString()).toThrow(
      expect.objectContaining({ code: 'KAFKA_MALFORMED' }),
    );
  });

  it('reports truncation instead of reading past the end', () => {
    const r = new Reader(Buffer.from([0, 5, 0x61]));
    expect(() => r.readString()).toThrow(expect.objectContaining({ code: 'KAFKA_TRUNCATED' }));
    expect(() => new Reader(Buffer.from([0x80, 0x80])).readUnsignedVarint()).toThrow(KafkaDecodeError);
  });

  it('frames with a size prefix', () => {
    const frame = new Writer().writeInt16(3).writeInt16(0).toFrame();
    expect([...frame]).toEqual([0, 0, 0, 4, 0, 3, 0, 0]);
  });
});
