import { ApiKey } from './api-keys.ts';

/*
 * Cheap error-code reads for the hot responses (Produce, Fetch, ListOffsets),
 * straight from the frame bytes: no Reader, no strings, record sets skipped by
 * their length, never copied. Only the classic versions whose partition layout
 * we know are read; anything else reports "unknown" and counts as no error.
 *
 * All three share the same outer shape:
 *   [throttle_time_ms int32, some versions] then
 *   topics array (int32 count): name string (int16 length), partitions array
 *     (int32 count): partition int32, error_code int16, then version-specific fields
 */

/** Partitions examined per response at most; a first error is what we count. */
const MAX_PARTITIONS_SCANNED = 64;

/** Returns the offset after one partition's fields that follow its error code, or -1 when it does not fit. */
type SkipRest = (buf: Buffer, offset: number, end: number) => number;

function fixed(bytes: number): SkipRest {
  return (_buf, offset, end) => (offset + bytes <= end ? offset + bytes : -1);
}

/** Fetch v0–v3: high_watermark int64, then the record set as int32-length bytes. */
const fetchPartitionRest: SkipRest = (buf, offset, end) => {
  if (offset + 12 > end) return -1;
  const length = buf.readInt32BE(offset + 8);
  const next = offset + 12 + Math.max(0, length);
  return next <= end ? next : -1;
};

/** ListOffsets v0: an int32 count of int64 offsets. */
const listOffsetsV0Rest: SkipRest = (buf, offset, end) => {
  if (offset + 4 > end) return -1;
  const count = buf.readInt32BE(offset);
  const next = offset + 4 + 8 * Math.max(0, count);
  return next <= end ? next : -1;
};

interface Layout {
  throttleFirst: boolean;
  rest: SkipRest;
}

function layoutFor(apiKey: number, apiVersion: number): Layout | null {
  switch (apiKey) {
    case ApiKey.Produce:
      // base_offset; + log_append_time from v2; + log_start_offset from v5. Throttle sits at the end.
      if (apiVersion <= 1) return { throttleFirst: false, rest: fixed(8) };
      if (apiVersion <= 4) return { throttleFirst: false, rest: fixed(16) };
      if (apiVersion <= 7) return { throttleFirst: false, rest: fixed(24) };
      return null;
    case ApiKey.Fetch:
      return apiVersion <= 3 ? { throttleFirst: apiVersion >= 1, rest: fetchPartitionRest } : null;
    case ApiKey.ListOffsets:
      if (apiVersion === 0) return { throttleFirst: false, rest: listOffsetsV0Rest };
      // timestamp and offset; + leader_epoch from v4.
      if (apiVersion <= 3) return { throttleFirst: apiVersion >= 2, rest: fixed(16) };
      if (apiVersion <= 5) return { throttleFirst: true, rest: fixed(20) };
      return null;
    default:
      return null;
  }
}

/** Whether `scanErrorCode` can read responses of this API version. */
export function canScanErrorCode(apiKey: number, apiVersion: number): boolean {
  return layoutFor(apiKey, apiVersion) !== null;
}

/**
 * The first non-zero partition error code in a response body starting at
 * `offset` (after the response header), 0 when none was found, or null when
 * the version is not one we read or the bytes do not fit the layout.
 *
 * `partial`: `buf` is only the head of a larger frame (a streamed response), so
 * running out of bytes after at least one partition means "no error in the
 * partitions we could see" (0), not a misfit (null).
 */
export function scanErrorCode(apiKey: number, apiVersion: number, buf: Buffer, offset: number, options: { partial?: boolean } = {}): number | null {
  const layout = layoutFor(apiKey, apiVersion);
  if (!layout) return null;
  const end = buf.length;
  let scanned = 0;
  const outOfBytes = () => (options.partial && scanned > 0 ? 0 : null);
  let at = offset + (layout.throttleFirst ? 4 : 0);
  if (at + 4 > end) return null;
  const topics = buf.readInt32BE(at);
  at += 4;
  for (let t = 0; t < topics; t++) {
    if (at + 2 > end) return outOfBytes();
    at += 2 + Math.max(0, buf.readInt16BE(at));
    if (at + 4 > end) return outOfBytes();
    const partitions = buf.readInt32BE(at);
    at += 4;
    for (let p = 0; p < partitions; p++) {
      if (at + 6 > end) return outOfBytes();
      const errorCode = buf.readInt16BE(at + 4);
      if (errorCode !== 0) return errorCode;
      if (++scanned >= MAX_PARTITIONS_SCANNED) return 0;
      at = layout.rest(buf, at + 6, end);
      if (at < 0) return outOfBytes();
    }
  }
  return 0;
}
