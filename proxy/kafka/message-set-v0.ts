import { crc32 } from 'node:zlib';
import { KafkaDecodeError } from './errors.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

/*
 * Message set, message format v0 (magic byte 0), as Kafka 0.8 stores and sends it.
 * A message set is NOT an array: entries follow each other until the bytes run out.
 *
 *   entry
 *     offset          int64   assigned by the broker; producers may send anything
 *     message_size    int32   bytes of the message that follows
 *     message
 *       crc           int32   CRC-32 (IEEE) of everything after it, magic..value
 *       magic         int8    0 for this format
 *       attributes    int8    low 3 bits: compression codec (0 = none)
 *       key           bytes   nullable
 *       value         bytes   nullable
 *
 * A Fetch response is a byte-range copy of the log cut at max_bytes, so its
 * message set may end with a partial entry; that is normal and not an error.
 * The decoder therefore stops at a partial tail and reports its size.
 */

/** Bytes of an entry before the message: offset int64 + message_size int32. */
export const ENTRY_OVERHEAD_V0 = 12;
/** Smallest v0 message: crc, magic, attributes, two null lengths. */
export const MIN_MESSAGE_BYTES_V0 = 4 + 1 + 1 + 4 + 4;
/** attributes & this = compression codec; 0 means uncompressed. */
export const COMPRESSION_CODEC_MASK = 0x07;

export interface MessageV0 {
  key: Buffer | null;
  value: Buffer | null;
  /** Ignored by brokers on produce; 0 when not given. */
  offset?: bigint;
  /** Defaults to 0 (no compression). */
  attributes?: number;
}

export interface DecodedMessageV0 {
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  magic: number;
  attributes: number;
  /** The CRC as sent (unsigned). */
  crc: number;
  /** Whether `crc` matches the bytes; a broker rejects the set when one does not. */
  crcValid: boolean;
  /** The whole entry (offset, size, message) as it appeared, without a copy. */
  entry: Buffer;
}

export interface DecodedMessageSetV0 {
  messages: DecodedMessageV0[];
  /** Bytes of a trailing partial entry (0 when the set ends on a whole entry). */
  partialBytes: number;
}

/** The compression codec of a message's attributes; non-zero is a codec we do not implement. */
export function compressionCodec(attributes: number): number {
  return attributes & COMPRESSION_CODEC_MASK;
}

/**
 * Decodes a v0 message set. Stops quietly at a trailing partial entry (see
 * above) and reports its size. Throws KafkaDecodeError when a whole entry is
 * malformed: a magic other than 0, a message too small to be one, or key and
 * value lengths that do not add up to message_size.
 */
export function decodeMessageSetV0(bytes: Buffer): DecodedMessageSetV0 {
  const messages: DecodedMessageV0[] = [];
  let at = 0;
  while (at < bytes.length) {
    const left = bytes.length - at;
    if (left < ENTRY_OVERHEAD_V0) return { messages, partialBytes: left };
    const size = bytes.readInt32BE(at + 8);
    if (size < MIN_MESSAGE_BYTES_V0) {
      throw new KafkaDecodeError('KAFKA_MALFORMED', `A v0 message of ${size} bytes is smaller than the ${MIN_MESSAGE_BYTES_V0} any message needs`);
    }
    if (left < ENTRY_OVERHEAD_V0 + size) return { messages, partialBytes: left };
    const entry = bytes.subarray(at, at + ENTRY_OVERHEAD_V0 + size);
    messages.push(decodeEntry(entry));
    at += entry.length;
  }
  return { messages, partialBytes: 0 };
}

function decodeEntry(entry: Buffer): DecodedMessageV0 {
  const r = new Reader(entry);
  const offset = r.readInt64();
  r.readInt32(); // message_size, already checked by the caller
  const crc = r.readUInt32();
  const checked = entry.subarray(r.offset);
  const magic = r.readInt8();
  if (magic !== 0) {
    throw new KafkaDecodeError('KAFKA_UNSUPPORTED_VERSION', `Message format v${magic} is not v0; only v0 message sets are read here`);
  }
  const attributes = r.readInt8();
  const key = r.readNullableBytes();
  const value = r.readNullableBytes();
  if (r.remaining !== 0) {
    throw new KafkaDecodeError('KAFKA_MALFORMED', `A v0 message has ${r.remaining} bytes after its value`);
  }
  return { offset, key, value, magic, attributes, crc, crcValid: crc32(checked) === crc, entry };
}

/** Writes one entry (offset, size, crc, magic 0, attributes, key, value); the CRC is computed here. */
export function writeMessageV0(w: Writer, message: MessageV0): Writer {
  const body = new Writer(MIN_MESSAGE_BYTES_V0 + (message.key?.length ?? 0) + (message.value?.length ?? 0))
    .writeInt8(0)
    .writeInt8(message.attributes ?? 0)
    .writeNullableBytes(message.key)
    .writeNullableBytes(message.value)
    .toBuffer();
  return w
    .writeInt64(message.offset ?? 0n)
    .writeInt32(4 + body.length)
    .writeUInt32(crc32(body))
    .writeRaw(body);
}

/** Encodes messages as one v0 message set (no count in front: entries back to back). */
export function encodeMessageSetV0(messages: readonly MessageV0[]): Buffer {
  const w = new Writer();
  for (const m of messages) writeMessageV0(w, m);
  return Buffer.from(w.toBuffer());
}

/** Rewrites the offset of an encoded entry in place; the CRC does not cover it. */
export function setEntryOffset(entry: Buffer, offset: bigint): void {
  entry.writeBigInt64BE(offset, 0);
}
