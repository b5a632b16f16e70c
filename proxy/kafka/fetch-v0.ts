import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';

/*
 * Fetch v0 (api key 1), the version Kafka 0.8 brokers such as kafka-worker speak.
 *
 * Request body:
 *   replica_id        int32    -1 for a consumer; a broker id for a follower
 *   max_wait_ms       int32    how long the broker may hold the request waiting for min_bytes
 *   min_bytes         int32    answer as soon as this many message bytes are available
 *   topics            array
 *     name            string
 *     partitions      array
 *       index         int32
 *       fetch_offset  int64    first offset wanted
 *       max_bytes     int32    at most this many message-set bytes for this partition
 *
 * Response body:
 *   topics            array
 *     name            string
 *     partitions      array
 *       index         int32
 *       error_code    int16
 *       high_watermark int64   offset the next produced message will get
 *       records       bytes    a v0 message set behind its int32 size; it may end
 *                              with a partial message (see message-set-v0.ts)
 */

export interface FetchPartitionRequestV0 {
  partition: number;
  fetchOffset: bigint;
  maxBytes: number;
}

export interface FetchRequestV0 {
  replicaId: number;
  maxWaitMs: number;
  minBytes: number;
  topics: { topic: string; partitions: FetchPartitionRequestV0[] }[];
}

export interface FetchPartitionResponseV0 {
  partition: number;
  errorCode: number;
  highWatermark: bigint;
  /** The raw message set; decode it with decodeMessageSetV0. */
  messageSet: Buffer;
}

export interface FetchResponseV0 {
  topics: { topic: string; partitions: FetchPartitionResponseV0[] }[];
}

/** replica_id of an ordinary consumer. */
export const CONSUMER_REPLICA_ID = -1;

export function decodeFetchRequestV0(r: Reader): FetchRequestV0 {
  const replicaId = r.readInt32();
  const maxWaitMs = r.readInt32();
  const minBytes = r.readInt32();
  const topics = r.readArray((rt) => ({
    topic: rt.readString(),
    partitions: rt.readArray((rp) => ({
      partition: rp.readInt32(),
      fetchOffset: rp.readInt64(),
      maxBytes: rp.readInt32(),
    })),
  }));
  return { replicaId, maxWaitMs, minBytes, topics };
}

export function encodeFetchRequestV0(data: FetchRequestV0, w: Writer): Writer {
  w.writeInt32(data.replicaId).writeInt32(data.maxWaitMs).writeInt32(data.minBytes);
  return w.writeArray(data.topics, (wt, t) => {
    wt.writeString(t.topic).writeArray(t.partitions, (wp, p) => {
      wp.writeInt32(p.partition).writeInt64(p.fetchOffset).writeInt32(p.maxBytes);
    });
  });
}

export function decodeFetchResponseV0(r: Reader): FetchResponseV0 {
  const topics = r.readArray((rt) => ({
    topic: rt.readString(),
    partitions: rt.readArray((rp) => ({
      partition: rp.readInt32(),
      errorCode: rp.readInt16(),
      highWatermark: rp.readInt64(),
      messageSet: rp.readNullableBytes() ?? Buffer.alloc(0),
    })),
  }));
  return { topics };
}

export function encodeFetchResponseV0(data: FetchResponseV0, w: Writer): Writer {
  return w.writeArray(data.topics, (wt, t) => {
    wt.writeString(t.topic).writeArray(t.partitions, (wp, p) => {
      wp.writeInt32(p.partition).writeInt16(p.errorCode).writeInt64(p.highWatermark).writeBytes(p.messageSet);
    });
  });
}
