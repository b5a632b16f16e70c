import type { TaggedField } from './reader.ts';

/**
 * Writes Kafka's primitive types into a growing buffer. Methods return `this` so
 * an encoder reads like the grammar it implements.
 */
export class Writer {
  #buffer: Buffer;
  #length = 0;

  constructor(initialCapacity = 256) {
    this.#buffer = Buffer.allocUnsafe(initialCapacity);
  }

  get length(): number {
    return this.#length;
  }

  #ensure(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#buffer.length) return;
    let capacity = this.#buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.#buffer.copy(next, 0, 0, this.#length);
    this.#buffer = next;
  }

  writeInt8(v: number): this {
    this.#ensure(1);
    this.#buffer.writeInt8(v, this.#length);
    this.#length += 1;
    return this;
  }

  writeBoolean(v: boolean): this {
    return this.writeInt8(v ? 1 : 0);
  }

  writeInt16(v: number): this {
    this.#ensure(2);
    this.#buffer.writeInt16BE(v, this.#length);
    this.#length += 2;
    return this;
  }

  writeInt32(v: number): this {
    this.#ensure(4);
    this.#buffer.writeInt32BE(v, this.#length);
    this.#length += 4;
    return this;
  }

  writeUInt32(v: number): this {
    this.#ensure(4);
    this.#buffer.writeUInt32BE(v, this.#length);
    this.#length += 4;
    return this;
  }

  writeInt64(v: bigint): this {
    this.#ensure(8);
    this.#buffer.writeBigInt64BE(v, this.#length);
    this.#length += 8;
    return this;
  }

  writeUuid(v: Buffer): this {
    if (v.length !== 16) throw new RangeError(`A UUID is 16 bytes, got ${v.length}`);
    return this.writeRaw(v);
  }

  writeUnsignedVarint(v: number): this {
    if (v < 0 || v > 0xffffffff || !Number.isInteger(v)) throw new RangeError(`Not a uint32: ${v}`);
    let rest = v;
    while (rest >= 0x80) {
      this.writeRawByte((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    return this.writeRawByte(rest);
  }

  writeVarint(v: number): this {
    return this.writeUnsignedVarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  writeRawByte(byte: number): this {
    this.#ensure(1);
    this.#buffer[this.#length++] = byte;
    return this;
  }

  writeRaw(bytes: Uint8Array): this {
    this.#ensure(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
    return this;
  }

  writeString(v: string): this {
    return this.writeNullableString(v);
  }

  writeNullableString(v: string | null): this {
    if (v === null) return this.writeInt16(-1);
    const bytes = Buffer.from(v, 'utf8');
    return this.writeInt16(bytes.length).writeRaw(bytes);
  }

  writeCompactString(v: string): this {
    return this.writeCompactNullableString(v);
  }

  writeCompactNullableString(v: string | null): this {
    if (v === null) return this.writeUnsignedVarint(0);
    const bytes = Buffer.from(v, 'utf8');
    return this.writeUnsignedVarint(bytes.length + 1).writeRaw(bytes);
  }

  writeBytes(v: Uint8Array): this {
    return this.writeNullableBytes(v);
  }

  writeNullableBytes(v: Uint8Array | null): this {
    if (v === null) return this.writeInt32(-1);
    return this.writeInt32(v.length).writeRaw(v);
  }

  writeCompactBytes(v: Uint8Array): this {
    return this.writeCompactNullableBytes(v);
  }

  writeCompactNullableBytes(v: Uint8Array | null): this {
    if (v === null) return this.writeUnsignedVarint(0);
    return this.writeUnsignedVarint(v.length + 1).writeRaw(v);
  }

  writeArray<T>(items: readonly T[], writeItem: (w: this, item: T) => void): this {
    return this.writeNullableArray(items, writeItem);
  }

  writeNullableArray<T>(items: readonly T[] | null, writeItem: (w: this, item: T) => void): this {
    if (items === null) return this.writeInt32(-1);
    this.writeInt32(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  writeCompactArray<T>(items: readonly T[], writeItem: (w: this, item: T) => void): this {
    return this.writeCompactNullableArray(items, writeItem);
  }

  writeCompactNullableArray<T>(items: readonly T[] | null, writeItem: (w: this, item: T) => void): this {
    if (items === null) return this.writeUnsignedVarint(0);
    this.writeUnsignedVarint(items.length + 1);
    for (const item of items) writeItem(this, item);
    return this;
  }

  writeTaggedFields(fields: readonly TaggedField[] = []): this {
    this.writeUnsignedVarint(fields.length);
    for (const f of fields) this.writeUnsignedVarint(f.tag).writeUnsignedVarint(f.data.length).writeRaw(f.data);
    return this;
  }

  /** The bytes written so far (a view; copy it if the writer is reused). */
  toBuffer(): Buffer {
    return this.#buffer.subarray(0, this.#length);
  }

  /** The bytes written so far behind an int32 size prefix: one whole Kafka frame. */
  toFrame(): Buffer {
    const frame = Buffer.allocUnsafe(4 + this.#length);
    frame.writeInt32BE(this.#length, 0);
    this.#buffer.copy(frame, 4, 0, this.#length);
    return frame;
  }
}
