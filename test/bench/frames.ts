import { ApiKey } from '../../proxy/kafka/api-keys.ts';
import { CONSUMER_REPLICA_ID, encodeFetchRequestV0, encodeFetchResponseV0 } from '../../proxy/kafka/fetch-v0.ts';
import { encodeRequestHeader, encodeResponseHeader } from '../../proxy/kafka/headers.ts';
import { ENTRY_OVERHEAD_V0, MIN_MESSAGE_BYTES_V0, writeMessageV0 } from '../../proxy/kafka/message-set-v0.ts';
import { encodeMetadataRequest } from '../../proxy/kafka/metadata-request.ts';
import { encodeMetadataResponse } from '../../proxy/kafka/metadata-response.ts';
import { encodeProduceRequestV0, encodeProduceResponseV0 } from '../../proxy/kafka/produce-v0.ts';
import { Writer } from '../../proxy/kafka/writer.ts';

/**
 * The frames the benchmark sends and answers. They are real Kafka v0 frames
 * (Produce, Fetch, Metadata), so the Kafka-aware session does the work it does
 * for real clients: it peeks headers, reads acks, pairs correlation ids and
 * scans error codes. Sizes are whole frames, size prefix included; a size
 * below a message's natural size gives the natural size.
 *
 * Each frame is built once as a template; a FramePool hands out copies with the
 * correlation id patched in and takes them back once the socket has written
 * them, so a 1 MiB frame is not copied per request.
 */

export const CLIENT_ID = 'bench';
export const TOPIC = 'bench';
/** The broker a Metadata probe answer names; the session rewrites it when it is on. */
export const PROBE_BROKER = { host: 'bench-responder.invalid', port: 9 } as const;

/** Where the correlation id sits in a whole frame. */
export const REQUEST_CORRELATION_OFFSET = 8;
export const RESPONSE_CORRELATION_OFFSET = 4;

export interface FrameTemplate {
  readonly apiKey: number;
  readonly frame: Buffer;
  readonly correlationOffset: number;
}

function requestFrame(apiKey: number, body: (w: Writer) => void): FrameTemplate {
  const w = new Writer();
  encodeRequestHeader({ apiKey, apiVersion: 0, correlationId: 0, clientId: CLIENT_ID }, w, 1);
  body(w);
  return { apiKey, frame: w.toFrame(), correlationOffset: REQUEST_CORRELATION_OFFSET };
}

function responseFrame(apiKey: number, body: (w: Writer) => void): FrameTemplate {
  const w = new Writer();
  encodeResponseHeader({ correlationId: 0 }, w, 0);
  body(w);
  return { apiKey, frame: w.toFrame(), correlationOffset: RESPONSE_CORRELATION_OFFSET };
}

/**
 * A v0 message set of exactly `bytes`: one message (null key, zero value) when it
 * fits, else zero bytes, which reads as a partial trailing entry — legal in a
 * Fetch answer, and nothing on our path validates a Produce's records.
 */
function messageSetOf(bytes: number): Buffer {
  if (bytes <= 0) return Buffer.alloc(0);
  const overhead = ENTRY_OVERHEAD_V0 + MIN_MESSAGE_BYTES_V0;
  if (bytes < overhead) return Buffer.alloc(bytes);
  const w = new Writer(bytes);
  writeMessageV0(w, { key: null, value: Buffer.alloc(bytes - overhead) });
  return Buffer.from(w.toBuffer());
}

/** Splits `extra` bytes into whole partition entries of `entryBytes` and the rest, which pads the topic name. */
function padding(extra: number, entryBytes: number): { partitions: number; name: string } {
  const partitions = Math.floor(Math.max(0, extra) / entryBytes);
  return { partitions: partitions + 1, name: TOPIC + '_'.repeat(Math.max(0, extra) - (partitions * entryBytes)) };
}

/** Produce v0, acks=1 (so a response is due), one partition whose records fill the frame. */
export function produceRequest(totalBytes: number): FrameTemplate {
  const build = (records: Buffer) =>
    requestFrame(ApiKey.Produce, (w) =>
      encodeProduceRequestV0({ acks: 1, timeoutMs: 30_000, topics: [{ topic: TOPIC, partitions: [{ partition: 0, messageSet: records }] }] }, w),
    );
  const natural = build(Buffer.alloc(0)).frame.length;
  return build(messageSetOf(totalBytes - natural));
}

const PRODUCE_RESULT_BYTES = 4 + 2 + 8;

/** Produce v0 response, no error; extra size becomes more partition results. */
export function produceResponse(totalBytes: number): FrameTemplate {
  const build = (partitions: number, topic: string) =>
    responseFrame(ApiKey.Produce, (w) =>
      encodeProduceResponseV0(
        { topics: [{ topic, partitions: Array.from({ length: partitions }, (_, i) => ({ partition: i, errorCode: 0, baseOffset: BigInt(i) })) }] },
        w,
      ),
    );
  const natural = build(1, TOPIC).frame.length;
  const pad = padding(totalBytes - natural, PRODUCE_RESULT_BYTES);
  return build(pad.partitions, pad.name);
}

const FETCH_PARTITION_REQUEST_BYTES = 4 + 8 + 4;

/** Fetch v0 from a consumer; extra size becomes more partitions. */
export function fetchRequest(totalBytes: number): FrameTemplate {
  const build = (partitions: number, topic: string) =>
    requestFrame(ApiKey.Fetch, (w) =>
      encodeFetchRequestV0(
        {
          replicaId: CONSUMER_REPLICA_ID,
          maxWaitMs: 100,
          minBytes: 1,
          topics: [{ topic, partitions: Array.from({ length: partitions }, (_, i) => ({ partition: i, fetchOffset: 0n, maxBytes: 1024 * 1024 })) }],
        },
        w,
      ),
    );
  const natural = build(1, TOPIC).frame.length;
  const pad = padding(totalBytes - natural, FETCH_PARTITION_REQUEST_BYTES);
  return build(pad.partitions, pad.name);
}

/** Fetch v0 response, no error, one partition whose records fill the frame. */
export function fetchResponse(totalBytes: number): FrameTemplate {
  const build = (records: Buffer) =>
    responseFrame(ApiKey.Fetch, (w) =>
      encodeFetchResponseV0(
        { topics: [{ topic: TOPIC, partitions: [{ partition: 0, errorCode: 0, highWatermark: 1n, messageSet: records }] }] },
        w,
      ),
    );
  const natural = build(Buffer.alloc(0)).frame.length;
  return build(messageSetOf(totalBytes - natural));
}

export function metadataRequest(): FrameTemplate {
  return requestFrame(ApiKey.Metadata, (w) => encodeMetadataRequest(0, { topics: null }, w));
}

/** Names PROBE_BROKER as the only broker; a session rewrites it to the tunnel's address. */
export function metadataResponse(): FrameTemplate {
  return responseFrame(ApiKey.Metadata, (w) =>
    encodeMetadataResponse(0, { brokers: [{ nodeId: 1, host: PROBE_BROKER.host, port: PROBE_BROKER.port }], topics: [] }, w),
  );
}

/** The request the benchmark sends for a scenario: Fetch when the answer is the big side, else Produce. */
export function requestFor(options: { requestBytes: number; responseBytes: number }): FrameTemplate {
  return options.responseBytes > options.requestBytes ? fetchRequest(options.requestBytes) : produceRequest(options.requestBytes);
}

export function responseFor(apiKey: number, totalBytes: number): FrameTemplate {
  switch (apiKey) {
    case ApiKey.Produce:
      return produceResponse(totalBytes);
    case ApiKey.Fetch:
      return fetchResponse(totalBytes);
    case ApiKey.Metadata:
      return metadataResponse();
    default:
      throw new Error(`The benchmark responder has no answer for API key ${apiKey}`);
  }
}

/** Copies of one template, reused once a socket has written them. */
export class FramePool {
  readonly #template: FrameTemplate;
  readonly #free: Buffer[] = [];

  constructor(template: FrameTemplate) {
    this.#template = template;
  }

  get frameBytes(): number {
    return this.#template.frame.length;
  }

  take(correlationId: number): Buffer {
    const frame = this.#free.pop() ?? Buffer.from(this.#template.frame);
    frame.writeInt32BE(correlationId, this.#template.correlationOffset);
    return frame;
  }

  /** Only for a frame the socket is done with (its write callback ran). */
  release(frame: Buffer): void {
    // A pool bigger than what can be in flight would only hold memory.
    if (this.#free.length < 64) this.#free.push(frame);
  }
}

/** Bytes of a frame a scanner hands over: size prefix plus the first 8 bytes of the payload. */
export const HEAD_BYTES = 12;

/**
 * Finds frame boundaries in a TCP stream without assembling frames: the load
 * generator needs only each response's correlation id and size, the responder
 * only each request's key and correlation id. Bodies are skipped, never copied,
 * so the measuring side stays cheap next to the tunnel it measures.
 */
export class FrameScanner {
  readonly #head = Buffer.alloc(HEAD_BYTES);
  readonly #maxFrameBytes: number;
  #headLength = 0;
  /** Bytes of the head wanted: the prefix, then min(HEAD_BYTES, frame size). */
  #headWanted = 4;
  #skip = 0;
  #frameBytes = 0;

  constructor(options: { maxFrameBytes: number }) {
    this.#maxFrameBytes = options.maxFrameBytes;
  }

  /** `onFrame` gets a view of the first bytes (valid only during the call) and the whole frame's size. */
  push(chunk: Buffer, onFrame: (head: Buffer, frameBytes: number) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - offset);
        this.#skip -= n;
        offset += n;
        if (this.#skip === 0) this.#done(onFrame);
        continue;
      }
      const n = Math.min(this.#headWanted - this.#headLength, chunk.length - offset);
      chunk.copy(this.#head, this.#headLength, offset, offset + n);
      this.#headLength += n;
      offset += n;
      if (this.#headLength < this.#headWanted) continue;
      if (this.#headWanted === 4) {
        const size = this.#head.readInt32BE(0);
        if (size < 0 || size > this.#maxFrameBytes) throw new Error(`A frame of ${size} bytes arrived; the benchmark expects 0 to ${this.#maxFrameBytes}`);
        this.#frameBytes = 4 + size;
        this.#headWanted = Math.min(HEAD_BYTES, this.#frameBytes);
        if (this.#headWanted > 4) continue;
      }
      this.#skip = this.#frameBytes - this.#headLength;
      if (this.#skip === 0) this.#done(onFrame);
    }
  }

  #done(onFrame: (head: Buffer, frameBytes: number) => void): void {
    const head = this.#head.subarray(0, this.#headLength);
    const bytes = this.#frameBytes;
    this.#headLength = 0;
    this.#headWanted = 4;
    onFrame(head, bytes);
  }
}
