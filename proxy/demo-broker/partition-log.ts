/**
 * One partition's log, in memory: v0 message-set entries with broker-assigned
 * offsets, stored as the bytes a Fetch returns so reads are plain copies.
 *
 * Memory is bounded by retention, as Kafka bounds disk: past `retentionMessages`
 * entries or `retentionBytes` bytes the oldest entries are dropped and the log
 * start offset advances, so a consumer that falls behind gets OFFSET_OUT_OF_RANGE
 * like it would from a real broker.
 */

const DROPPED = Buffer.alloc(0);

export interface PartitionLogOptions {
  retentionMessages: number;
  retentionBytes: number;
  /** Clock for ListOffsets by time; Date.now unless a test fixes it. */
  now?: () => number;
}

export class PartitionLog {
  /** Entries from #head on are live; the dead prefix is dropped in batches. */
  #entries: Buffer[] = [];
  #head = 0;
  #bytes = 0;
  #logStart = 0n;
  #next = 0n;
  #lastAppendMs: number;
  readonly #options: PartitionLogOptions;
  readonly #now: () => number;

  constructor(options: PartitionLogOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#lastAppendMs = this.#now();
  }

  /** Oldest offset still held. */
  get logStartOffset(): bigint {
    return this.#logStart;
  }

  /** The offset the next message will get (one broker, so every write is committed). */
  get highWatermark(): bigint {
    return this.#next;
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Appends whole v0 entries (offset, size, message) and gives them offsets.
   * The entries are copied: a request frame must not stay alive because one
   * message of it is retained. Returns the first offset given.
   */
  append(entries: readonly Buffer[]): bigint {
    const base = this.#next;
    for (const entry of entries) {
      const copy = Buffer.from(entry);
      copy.writeBigInt64BE(this.#next, 0);
      this.#entries.push(copy);
      this.#bytes += copy.length;
      this.#next += 1n;
    }
    if (entries.length > 0) this.#lastAppendMs = this.#now();
    this.#enforceRetention();
    return base;
  }

  /** Whether `offset` can be fetched: from the log start up to and including the high watermark. */
  inRange(offset: bigint): boolean {
    return offset >= this.#logStart && offset <= this.#next;
  }

  /**
   * The message set a Fetch at `offset` returns, at most `maxBytes` long. Whole
   * entries only, except when the first entry alone exceeds maxBytes: then its
   * first maxBytes bytes, a partial message, as Kafka 0.8 sends, which tells a
   * client its fetch size is too small for that message. Call only when inRange.
   */
  read(offset: bigint, maxBytes: number): Buffer {
    if (maxBytes <= 0 || offset >= this.#next) return Buffer.alloc(0);
    const first = this.#head + Number(offset - this.#logStart);
    const out: Buffer[] = [];
    let total = 0;
    for (let i = first; i < this.#entries.length; i++) {
      const entry = this.#entries[i];
      if (total + entry.length > maxBytes) break;
      out.push(entry);
      total += entry.length;
    }
    if (out.length === 0) return Buffer.from(this.#entries[first].subarray(0, maxBytes));
    return Buffer.concat(out, total);
  }

  /** Bytes a Fetch at `offset` with `maxBytes` would return, without copying them. */
  available(offset: bigint, maxBytes: number): number {
    if (maxBytes <= 0 || offset >= this.#next || offset < this.#logStart) return 0;
    let total = 0;
    for (let i = this.#head + Number(offset - this.#logStart); i < this.#entries.length; i++) {
      const length = this.#entries[i].length;
      if (total + length > maxBytes) return total === 0 ? maxBytes : total;
      total += length;
    }
    return total;
  }

  /**
   * ListOffsets v0 as Kafka 0.8 answers it. Its log is a list of segments, each
   * known by (first offset, last-modified time), plus (log end offset, now) when
   * the last segment is not empty; the answer is the offsets of the newest
   * entries not newer than `timestamp` (-1 = latest, -2 = earliest), newest
   * first, at most maxNumOffsets. This log is one segment, so the answer is at
   * most [high watermark, log start].
   */
  offsetsBefore(timestamp: bigint, maxNumOffsets: number): bigint[] {
    const points: { offset: bigint; time: number }[] = [{ offset: this.#logStart, time: this.#lastAppendMs }];
    if (this.size > 0) points.push({ offset: this.#next, time: this.#now() });
    let start: number;
    if (timestamp === -1n) start = points.length - 1;
    else if (timestamp === -2n) start = 0;
    else {
      start = points.length - 1;
      while (start >= 0 && BigInt(points[start].time) > timestamp) start--;
    }
    const out: bigint[] = [];
    for (let i = start; i >= 0 && out.length < maxNumOffsets; i--) out.push(points[i].offset);
    return out;
  }

  #enforceRetention(): void {
    const { retentionMessages, retentionBytes } = this.#options;
    while (this.size > retentionMessages || (this.#bytes > retentionBytes && this.size > 1)) {
      this.#bytes -= this.#entries[this.#head].length;
      // Release the bytes now; the array slot goes with the next compaction.
      this.#entries[this.#head] = DROPPED;
      this.#head++;
      this.#logStart += 1n;
    }
    // Drop the dead prefix once it is half the array: amortised O(1) per message.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
