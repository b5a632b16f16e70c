import { KafkaDecodeError } from './errors.ts';

/** A tagged field kept as raw bytes, so an encoder can write back what it read. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

/**
 * Reads Kafka's primitive types from a buffer, named as the protocol guide names
 * them. Every length read from the wire is checked against the bytes that remain
 * before anything is allocated, so hostile input cannot make us allocate more
 * than the frame it arrived in.
 */
export class Reader {
  readonly buffer: Buffer;
  offset: number;
  readonly #end: number;

  constructor(buffer: Buffer, offset = 0, end = buffer.length) {
    this.buffer = buffer;
    this.offset = offset;
    this.#end = end;
  }

  get remaining(): number {
    return this.#end - this.offset;
  }

  #need(bytes: number): void {
    if (bytes > this.#end - this.offset) {
      throw new KafkaDecodeError('KAFKA_TRUNCATED', `Needed ${bytes} bytes at offset ${this.offset}, ${this.remaining} left`);
    }
  }

  readInt8(): number {
    this.#need(1);
    return this.buffer.readInt8(this.offset++);
  }

  readBoolean(): boolean {
    return this.readInt8() !== 0;
  }

  readInt16(): number {
    this.#need(2);
    const v = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  readInt32(): number {
    this.#need(4);
    const v = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  readUInt32(): number {
    this.#need(4);
    const v = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  readInt64(): bigint {
    this.#need(8);
    const v = this.buffer.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  readUuid(): Buffer {
    return this.readRaw(16);
  }

  /** Unsigned LEB128, at most 5 bytes (fits uint32). */
  readUnsignedVarint(): number {
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      this.#need(1);
      const byte = this.buffer[this.offset++];
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new KafkaDecodeError('KAFKA_MALFORMED', 'Unsigned varint longer than 5 bytes');
  }

  /** Zig-zag signed varint (int32). */
  readVarint(): number {
    const raw = this.readUnsignedVarint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  /** A slice of the underlying buffer (no copy). */
  readRaw(length: number): Buffer {
    if (length < 0) throw new KafkaDecodeError('KAFKA_MALFORMED', `Negative length ${length}`);
    this.#need(length);
    const out = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  readString(): string {
    const s = this.readNullableString();
    if (s === null) throw new KafkaDecodeError('KAFKA_MALFORMED', 'Null where a string is required');
    return s;
  }

  readNullableString(): string | null {
    const length = this.readInt16();
    if (length === -1) return null;
    if (length < -1) throw new KafkaDecodeError('KAFKA_MALFORMED', `Bad string length ${length}`);
    return this.readRaw(length).toString('utf8');
  }

  readCompactString(): string {
    const s = this.readCompactNullableString();
    if (s === null) throw new KafkaDecodeError('KAFKA_MALFORMED', 'Null where a compact string is required');
    return s;
  }

  readCompactNullableString(): string | null {
    const lengthPlusOne = this.readUnsignedVarint();
    if (lengthPlusOne === 0) return null;
    return this.readRaw(lengthPlusOne - 1).toString('utf8');
  }

  readBytes(): Buffer {
    const b = this.readNullableBytes();
    if (b === null) throw new KafkaDecodeError('KAFKA_MALFORMED', 'Null where bytes are required');
    return b;
  }

  readNullableBytes(): Buffer | null {
    const length = this.readInt32();
    if (length === -1) return null;
    if (length < -1) throw new KafkaDecodeError('KAFKA_MALFORMED', `Bad bytes length ${length}`);
    return this.readRaw(length);
  }

  readCompactBytes(): Buffer {
    const b = this.readCompactNullableBytes();
    if (b === null) throw new KafkaDecodeError('KAFKA_MALFORMED', 'Null where compact bytes are required');
    return b;
  }

  readCompactNullableBytes(): Buffer | null {
    const lengthPlusOne = this.readUnsignedVarint();
    if (lengthPlusOne === 0) return null;
    return this.readRaw(lengthPlusOne - 1);
  }

  /** int32 count then items. Each item takes at least one byte, which bounds the count. */
  readArray<T>(readItem: (r: Reader) => T): T[] {
    const items = this.readNullableArray(readItem);
    if (items === null) throw new KafkaDecodeError('KAFKA_MALFORMED', 'Null where an array is required');
    return items;
  }

  readNullableArray<T>(readItem: (r: Reader) => T): T[] | null {
    const count = this.readInt32();
    if (count === -1) return null;
    return this.#readItems(count, readItem);
  }

  readCompactArray<T>(readItem: (r: Reader) => T): T[] {
    const items = this.readCompactNullableArray(readItem);
    if (items === null) throw new KafkaDecodeError('KAFKA_MALFORMED', 'Null where a compact array is required');
    return items;
  }

  readCompactNullableArray<T>(readItem: (r: Reader) => T): T[] | null {
    const countPlusOne = this.readUnsignedVarint();
    if (countPlusOne === 0) return null;
    return this.#readItems(countPlusOne - 1, readItem);
  }

  #readItems<T>(count: number, readItem: (r: Reader) => T): T[] {
    if (count < 0) throw new KafkaDecodeError('KAFKA_MALFORMED', `Negative array count ${count}`);
    if (count > this.remaining) {
      throw new KafkaDecodeError('KAFKA_TRUNCATED', `Array of ${count} items cannot fit in ${this.remaining} bytes`);
    }
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(readItem(this));
    return items;
  }

  /** A tagged-field section: unsigned varint count, then (tag, size, bytes) each. */
  readTaggedFields(): TaggedField[] {
    const count = this.readUnsignedVarint();
    if (count === 0) return [];
    return this.#readItems(count, (r) => {
      const tag = r.readUnsignedVarint();
      const size = r.readUnsignedVarint();
      return { tag, data: r.readRaw(size) };
    });
  }
}
