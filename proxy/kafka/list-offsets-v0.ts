import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';

/*
 * ListOffsets v0 (api key 2; "Offsets" in Kafka 0.8), the version kafka-worker speaks.
 *
 * Request body:
 *   replica_id          int32    -1 for a consumer
 *   topics              array
 *     name              string
 *     partitions        array
 *       index           int32
 *       timestamp       int64    -1: latest, -2: earliest, else a time in ms
 *       max_num_offsets int32    at most this many offsets back
 *
 * Response body:
 *   topics              array
 *     name              string
 *     partitions        array
 *       index           int32
 *       error_code      int16
 *       offsets         array of int64, newest first (v0 only; v1+ return one offset)
 */

/** timestamp asking for the offset the next message will get. */
export const LATEST_TIMESTAMP = -1n;
/** timestamp asking for the oldest offset still held. */
export const EARLIEST_TIMESTAMP = -2n;

export interface ListOffsetsPartitionRequestV0 {
  partition: number;
  timestamp: bigint;
  maxNumOffsets: number;
}

export interface ListOffsetsRequestV0 {
  replicaId: number;
  topics: { topic: string; partitions: ListOffsetsPartitionRequestV0[] }[];
}

export interface ListOffsetsPartitionResponseV0 {
  partition: number;
  errorCode: number;
  offsets: bigint[];
}

export interface ListOffsetsResponseV0 {
  topics: { topic: string; partitions: ListOffsetsPartitionResponseV0[] }[];
}

export function decodeListOffsetsRequestV0(r: Reader): ListOffsetsRequestV0 {
  const replicaId = r.readInt32();
  const topics = r.readArray((rt) => ({
    topic: rt.readString(),
    partitions: rt.readArray((rp) => ({
      partition: rp.readInt32(),
      timestamp: rp.readInt64(),
      maxNumOffsets: rp.readInt32(),
    })),
  }));
  return { replicaId, topics };
}

export function encodeListOffsetsRequestV0(data: ListOffsetsRequestV0, w: Writer): Writer {
  w.writeInt32(data.replicaId);
  return w.writeArray(data.topics, (wt, t) => {
    wt.writeString(t.topic).writeArray(t.partitions, (wp, p) => {
      wp.writeInt32(p.partition).writeInt64(p.timestamp).writeInt32(p.maxNumOffsets);
    });
  });
}

export function decodeListOffsetsResponseV0(r: Reader): ListOffsetsResponseV0 {
  const topics = r.readArray((rt) => ({
    topic: rt.readString(),
    partitions: rt.readArray((rp) => ({
      partition: rp.readInt32(),
      errorCode: rp.readInt16(),
      offsets: rp.readArray((ro) => ro.readInt64()),
    })),
  }));
  return { topics };
}

export function encodeListOffsetsResponseV0(data: ListOffsetsResponseV0, w: Writer): Writer {
  return w.writeArray(data.topics, (wt, t) => {
    wt.writeString(t.topic).writeArray(t.partitions, (wp, p) => {
      wp.writeInt32(p.partition).writeInt16(p.errorCode).writeArray(p.offsets, (wo, o) => void wo.writeInt64(o));
    });
  });
}
