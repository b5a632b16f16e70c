import { crc32 } from 'node:zlib';
import { KafkaDecodeError } from './errors.ts';
import { compressionCodec, ENTRY_OVERHEAD_V0, writeMessageV0 } from './message-set-v0.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

/*
 * Lowers a producer's message set from message format v1 (magic 1, Kafka 0.10)
 * to v0 (magic 0, what a 0.8 broker stores), for Produce v1/v2 requests sent to
 * a 0.8-era broker. Format v1 is v0 plus one field:
 *
 *   entry
 *     offset          int64
 *     message_size    int32
 *     message
 *       crc           int32   CRC-32 (IEEE) of magic..value
 *       magic         int8    1
 *       attributes    int8    bits 0-2 codec; bit 3 timestamp type (v1 only)
 *       timestamp     int64   v1 only: dropped here, a 0.8 broker has nowhere to keep it
 *       key           bytes
 *       value         bytes
 *
 * Only uncompressed messages are lowered. A compressed v1 message is a wrapper
 * whose value holds a whole inner message set, compressed with a codec we may
 * not have (snappy, lz4); and one whose CRC does not match would be laundered by
 * a recomputed CRC. Both go on unchanged so the broker refuses them with its own
 * error code, which reaches the client as an ordinary produce error.
 */

/** Attribute bit 3: the timestamp type, which only format v1 has. */
const TIMESTAMP_TYPE_BIT = 0x08;
/** Bytes of a v1 message before the key: crc, magic, attributes, timestamp. */
const V1_HEAD_BYTES = 4 + 1 + 1 + 8;

export interface LoweredMessageSet {
  /** The v0 message set; the very same buffer when nothing needed lowering. */
  set: Buffer;
  /** Format v1 messages passed on unchanged (compressed, or a CRC that does not match). */
  kept: number;
}

/**
 * Lowers every uncompressed format-v1 message of a producer's message set to
 * format v0; v0 messages are copied as they are. Throws KafkaDecodeError on a
 * set no producer sends: a partial entry, a message that does not add up, or a
 * format above v1 (v2 record batches belong to Produce v3+).
 */
export function lowerMessageSet(set: Buffer): LoweredMessageSet {
  let w: Writer | null = null;
  let kept = 0;
  let at = 0;
  while (at < set.length) {
    const entry = wholeEntry(set, at);
    const magic = entry.readInt8(ENTRY_OVERHEAD_V0 + 4);
    if (magic > 1 || magic < 0) {
      throw new KafkaDecodeError('KAFKA_UNSUPPORTED_VERSION', `Message format v${magic} cannot be lowered to v0; only v0 and v1 messages can`);
    }
    const lowerable = magic === 1 && isLowerable(entry);
    if (magic === 1 && !lowerable) kept++;
    if (lowerable) {
      // Everything before this entry was copied as is; from here on, write.
      w ??= new Writer(set.length).writeRaw(set.subarray(0, at));
      lowerEntry(entry, w);
    } else if (w) {
      w.writeRaw(entry);
    }
    at += entry.length;
  }
  return { set: w ? Buffer.from(w.toBuffer()) : set, kept };
}

/** The entry at `at`, checked to be whole; a producer never sends a partial one. */
function wholeEntry(set: Buffer, at: number): Buffer {
  const left = set.length - at;
  if (left < ENTRY_OVERHEAD_V0 + 5) {
    throw new KafkaDecodeError('KAFKA_TRUNCATED', `A produced message set ends with ${left} bytes, too few for a message`);
  }
  const size = set.readInt32BE(at + 8);
  if (size < 5 || size > left - ENTRY_OVERHEAD_V0) {
    throw new KafkaDecodeError('KAFKA_MALFORMED', `A produced message claims ${size} bytes where ${left - ENTRY_OVERHEAD_V0} remain`);
  }
  return set.subarray(at, at + ENTRY_OVERHEAD_V0 + size);
}

function isLowerable(entry: Buffer): boolean {
  const message = entry.subarray(ENTRY_OVERHEAD_V0);
  if (message.length < V1_HEAD_BYTES + 8) return false;
  const attributes = message.readInt8(5);
  return compressionCodec(attributes) === 0 && crc32(message.subarray(4)) === message.readUInt32BE(0);
}

function lowerEntry(entry: Buffer, w: Writer): void {
  const r = new Reader(entry);
  const offset = r.readInt64();
  r.readInt32(); // message_size, checked by wholeEntry
  r.readUInt32(); // crc, checked by isLowerable; v0 gets its own
  r.readInt8(); // magic 1
  const attributes = r.readInt8() & ~TIMESTAMP_TYPE_BIT;
  r.readInt64(); // timestamp
  const key = r.readNullableBytes();
  const value = r.readNullableBytes();
  if (r.remaining !== 0) {
    throw new KafkaDecodeError('KAFKA_MALFORMED', `A v1 message has ${r.remaining} bytes after its value`);
  }
  writeMessageV0(w, { offset, key, value, attributes });
}
