import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';

/*
 * Produce v0 (api key 0), the version Kafka 0.8 brokers such as kafka-worker speak.
 *
 * Request body:
 *   acks              int16    0: no response at all; 1: leader wrote it; -1: all in-sync replicas
 *   timeout_ms        int32    how long the broker may wait for those acknowledgements
 *   topics            array
 *     name            string
 *     partitions      array
 *       index         int32
 *       records       bytes    a v0 message set behind its int32 size (see message-set-v0.ts);
 *                              null is read as an empty set
 *
 * Response body (none is sent when acks = 0):
 *   topics            array
 *     name            string
 *     partitions      array
 *       index         int32
 *       error_code    int16
 *       base_offset   int64    offset given to the first message, -1 on error
 */

export interface ProducePartitionV0 {
  partition: number;
  /** The raw message set; decode it with decodeMessageSetV0. */
  messageSet: Buffer;
}

export interface ProduceTopicV0 {
  topic: string;
  partitions: ProducePartitionV0[];
}

export interface ProduceRequestV0 {
  acks: number;
  timeoutMs: number;
  topics: ProduceTopicV0[];
}

export interface ProducePartitionResultV0 {
  partition: number;
  errorCode: number;
  baseOffset: bigint;
}

export interface ProduceResponseV0 {
  topics: { topic: string; partitions: ProducePartitionResultV0[] }[];
}

/** The one acks value that tells the broker not to answer. */
export const ACKS_NONE = 0;

export function decodeProduceRequestV0(r: Reader): ProduceRequestV0 {
  const acks = r.readInt16();
  const timeoutMs = r.readInt32();
  const topics = r.readArray((rt) => ({
    topic: rt.readString(),
    partitions: rt.readArray((rp) => ({
      partition: rp.readInt32(),
      messageSet: rp.readNullableBytes() ?? Buffer.alloc(0),
    })),
  }));
  return { acks, timeoutMs, topics };
}

export function encodeProduceRequestV0(data: ProduceRequestV0, w: Writer): Writer {
  w.writeInt16(data.acks).writeInt32(data.timeoutMs);
  return w.writeArray(data.topics, (wt, t) => {
    wt.writeString(t.topic).writeArray(t.partitions, (wp, p) => void wp.writeInt32(p.partition).writeBytes(p.messageSet));
  });
}

export function decodeProduceResponseV0(r: Reader): ProduceResponseV0 {
  const topics = r.readArray((rt) => ({
    topic: rt.readString(),
    partitions: rt.readArray((rp) => ({
      partition: rp.readInt32(),
      errorCode: rp.readInt16(),
      baseOffset: rp.readInt64(),
    })),
  }));
  return { topics };
}

export function encodeProduceResponseV0(data: ProduceResponseV0, w: Writer): Writer {
  return w.writeArray(data.topics, (wt, t) => {
    wt.writeString(t.topic).writeArray(t.partitions, (wp, p) => {
      wp.writeInt32(p.partition).writeInt16(p.errorCode).writeInt64(p.baseOffset);
    });
  });
}
