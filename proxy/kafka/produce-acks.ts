import { SIZE_PREFIX_BYTES } from './headers.ts';

/*
 * A Produce request with acks=0 gets no response, so the session must not wait
 * for one. acks sits near the start of the body:
 *   request header v1 (Produce v0–v8) or v2 (v9+, adds tagged fields), then
 *   transactional_id  nullable string     v3+ (compact from v9)
 *   acks              int16
 * Read straight from the frame; the records after it are never touched.
 */

const FIRST_FLEXIBLE = 9;
const FIRST_WITH_TRANSACTIONAL_ID = 3;

/** Reads an unsigned varint at `at`; returns [value, next offset] or null past `end`. */
function varint(buf: Buffer, at: number, end: number): [number, number] | null {
  let value = 0;
  for (let shift = 0; shift <= 28 && at < end; shift += 7) {
    const byte = buf[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
  }
  return null;
}

/**
 * The acks value of a whole Produce request frame (size prefix included), or
 * null when the frame is too short or malformed to tell.
 */
export function readProduceAcks(frame: Buffer): number | null {
  const end = frame.length;
  let at = SIZE_PREFIX_BYTES;
  if (at + 10 > end) return null;
  const version = frame.readInt16BE(at + 2);
  at += 8;
  const clientIdLength = frame.readInt16BE(at);
  at += 2 + Math.max(0, clientIdLength);
  const flexible = version >= FIRST_FLEXIBLE;
  if (flexible) {
    const count = varint(frame, at, end);
    if (!count) return null;
    at = count[1];
    for (let i = 0; i < count[0]; i++) {
      const tag = varint(frame, at, end);
      if (!tag) return null;
      const size = varint(frame, tag[1], end);
      if (!size) return null;
      at = size[1] + size[0];
    }
  }
  if (version >= FIRST_WITH_TRANSACTIONAL_ID) {
    if (flexible) {
      const lengthPlusOne = varint(frame, at, end);
      if (!lengthPlusOne) return null;
      at = lengthPlusOne[1] + Math.max(0, lengthPlusOne[0] - 1);
    } else {
      if (at + 2 > end) return null;
      at += 2 + Math.max(0, frame.readInt16BE(at));
    }
  }
  if (at + 2 > end) return null;
  return frame.readInt16BE(at);
}
