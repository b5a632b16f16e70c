import type { HostPort } from '../../shared/profile.ts';
import { ErrorCode } from '../kafka/api-keys.ts';
import { KafkaDecodeError } from '../kafka/errors.ts';
import type { FetchRequestV0, FetchResponseV0 } from '../kafka/fetch-v0.ts';
import type { ListOffsetsRequestV0, ListOffsetsResponseV0 } from '../kafka/list-offsets-v0.ts';
import { compressionCodec, decodeMessageSetV0, encodeMessageSetV0, ENTRY_OVERHEAD_V0, type MessageV0 } from '../kafka/message-set-v0.ts';
import type { MetadataRequest } from '../kafka/metadata-request.ts';
import type { MetadataResponse } from '../kafka/metadata-response.ts';
import type { ProducePartitionResultV0, ProduceRequestV0, ProduceResponseV0 } from '../kafka/produce-v0.ts';
import { PartitionLog } from './partition-log.ts';

/**
 * The demo broker's data: topics of partition logs, and the four v0 APIs
 * kafka-worker answers, as pure functions of a decoded request. No sockets
 * here; broker.ts owns connections and the Fetch long poll.
 */

/**
 * UNSUPPORTED_COMPRESSION_TYPE. Kafka 0.8 decompressed gzip and snappy; this
 * broker stores what it is sent as-is and does not, so it refuses compressed
 * sets with the code modern Kafka uses for a codec it cannot handle.
 */
export const UNSUPPORTED_COMPRESSION_TYPE = ErrorCode.UnsupportedCompressionType;

/** The single broker's node id: leader and only replica of every partition. */
export const DEMO_NODE_ID = 0;

export interface TopicSpec {
  name: string;
  partitions: number;
}

export interface PartitionInfo {
  partition: number;
  logStartOffset: bigint;
  highWatermark: bigint;
  messages: number;
}

export interface TopicInfo {
  name: string;
  partitions: PartitionInfo[];
}

export interface StoreOptions {
  topics: readonly TopicSpec[];
  retentionMessages: number;
  retentionBytes: number;
  /** Kafka's message.max.bytes: one message (entry) larger than this is refused. */
  maxMessageBytes: number;
  now?: () => number;
}

export interface ProduceOutcome {
  response: ProduceResponseV0;
  /** Partitions that received messages, as topic\0partition keys, to wake fetches. */
  appended: string[];
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}

export class DemoStore {
  readonly #topics = new Map<string, PartitionLog[]>();
  readonly #options: StoreOptions;

  constructor(options: StoreOptions) {
    this.#options = options;
    for (const spec of options.topics) {
      const logs = Array.from(
        { length: spec.partitions },
        () => new PartitionLog({ retentionMessages: options.retentionMessages, retentionBytes: options.retentionBytes, now: options.now }),
      );
      this.#topics.set(spec.name, logs);
    }
  }

  log(topic: string, partition: number): PartitionLog | undefined {
    return this.#topics.get(topic)?.[partition];
  }

  topics(): TopicInfo[] {
    return [...this.#topics].map(([name, logs]) => ({
      name,
      partitions: logs.map((log, partition) => ({
        partition,
        logStartOffset: log.logStartOffset,
        highWatermark: log.highWatermark,
        messages: log.size,
      })),
    }));
  }

  /** Appends messages directly (seeding demo data); returns the first offset given. */
  append(topic: string, partition: number, messages: readonly MessageV0[]): bigint {
    const log = this.log(topic, partition);
    if (!log) throw new RangeError(`The demo broker has no partition ${partition} of topic "${topic}"`);
    return log.append(decodeMessageSetV0(encodeMessageSetV0(messages)).messages.map((m) => m.entry));
  }

  /**
   * Produce v0. Each partition's set is accepted whole or refused whole, as
   * Kafka does: one bad CRC, a trailing partial message, a compressed message
   * or an oversized one refuses the set with that partition's error code.
   */
  produce(request: ProduceRequestV0): ProduceOutcome {
    const appended: string[] = [];
    const acksValid = request.acks === 0 || request.acks === 1 || request.acks === -1;
    const topics = request.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p): ProducePartitionResultV0 => {
        const refuse = (errorCode: number) => ({ partition: p.partition, errorCode, baseOffset: -1n });
        if (!acksValid) return refuse(ErrorCode.InvalidRequiredAcks);
        const log = this.log(t.topic, p.partition);
        if (!log) return refuse(ErrorCode.UnknownTopicOrPartition);
        const entries = this.#validEntries(p.messageSet);
        if (typeof entries === 'number') return refuse(entries);
        const baseOffset = log.append(entries);
        if (entries.length > 0) appended.push(partitionKey(t.topic, p.partition));
        return { partition: p.partition, errorCode: ErrorCode.None, baseOffset };
      }),
    }));
    return { response: { topics }, appended };
  }

  /** The entries of a produced set, or the error code that refuses it. */
  #validEntries(messageSet: Buffer): Buffer[] | number {
    let decoded;
    try {
      decoded = decodeMessageSetV0(messageSet);
    } catch (err) {
      if (err instanceof KafkaDecodeError) return ErrorCode.CorruptMessage;
      throw err;
    }
    if (decoded.partialBytes > 0) return ErrorCode.CorruptMessage;
    const entries: Buffer[] = [];
    for (const m of decoded.messages) {
      if (!m.crcValid) return ErrorCode.CorruptMessage;
      if (compressionCodec(m.attributes) !== 0) return UNSUPPORTED_COMPRESSION_TYPE;
      if (m.entry.length - ENTRY_OVERHEAD_V0 > this.#options.maxMessageBytes) return ErrorCode.MessageTooLarge;
      entries.push(m.entry);
    }
    return entries;
  }

  /** Fetch v0, answered with what is there now. */
  fetch(request: FetchRequestV0): FetchResponseV0 {
    return {
      topics: request.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const log = this.log(t.topic, p.partition);
          if (!log) return { partition: p.partition, errorCode: ErrorCode.UnknownTopicOrPartition, highWatermark: -1n, messageSet: Buffer.alloc(0) };
          if (!log.inRange(p.fetchOffset)) {
            return { partition: p.partition, errorCode: ErrorCode.OffsetOutOfRange, highWatermark: log.highWatermark, messageSet: Buffer.alloc(0) };
          }
          return { partition: p.partition, errorCode: ErrorCode.None, highWatermark: log.highWatermark, messageSet: log.read(p.fetchOffset, p.maxBytes) };
        }),
      })),
    };
  }

  /**
   * Whether a Fetch should be answered now rather than held: Kafka 0.8 answers
   * at once when it need not wait (max_wait_ms or min_bytes <= 0), when a
   * partition is in error, or when min_bytes are available.
   */
  fetchReady(request: FetchRequestV0): boolean {
    if (request.maxWaitMs <= 0 || request.minBytes <= 0) return true;
    let bytes = 0;
    for (const t of request.topics) {
      for (const p of t.partitions) {
        const log = this.log(t.topic, p.partition);
        if (!log || !log.inRange(p.fetchOffset)) return true;
        bytes += log.available(p.fetchOffset, p.maxBytes);
      }
    }
    return bytes >= request.minBytes;
  }

  listOffsets(request: ListOffsetsRequestV0): ListOffsetsResponseV0 {
    return {
      topics: request.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const log = this.log(t.topic, p.partition);
          if (!log) return { partition: p.partition, errorCode: ErrorCode.UnknownTopicOrPartition, offsets: [] };
          return { partition: p.partition, errorCode: ErrorCode.None, offsets: log.offsetsBefore(p.timestamp, p.maxNumOffsets) };
        }),
      })),
    };
  }

  /** Metadata: every topic for a null (v0: empty) list; this one broker leads everything. */
  metadata(request: Pick<MetadataRequest, 'topics'>, advertise: HostPort): MetadataResponse {
    const names = request.topics === null ? [...this.#topics.keys()] : request.topics.map((t) => t.name ?? '');
    return {
      brokers: [{ nodeId: DEMO_NODE_ID, host: advertise.host, port: advertise.port }],
      topics: names.map((name) => {
        const logs = this.#topics.get(name);
        if (!logs) return { errorCode: ErrorCode.UnknownTopicOrPartition, name, partitions: [] };
        return {
          errorCode: ErrorCode.None,
          name,
          partitions: logs.map((_, partitionIndex) => ({
            errorCode: ErrorCode.None,
            partitionIndex,
            leaderId: DEMO_NODE_ID,
            replicaNodes: [DEMO_NODE_ID],
            isrNodes: [DEMO_NODE_ID],
          })),
        };
      }),
    };
  }
}
