import { ApiKey } from './api-keys.ts';
import { KafkaDecodeError } from './errors.ts';
import { Reader, type TaggedField } from './reader.ts';
import type { Writer } from './writer.ts';

/*
 * Request header (after the int32 frame size):
 *   v0: api_key int16, api_version int16, correlation_id int32
 *   v1: v0 + client_id nullable string (classic int16 length, even in flexible
 *       requests, so that any broker can read the header of any ApiVersions)
 *   v2: v1 + tagged fields
 *
 * Response header:
 *   v0: correlation_id int32
 *   v1: v0 + tagged fields
 *
 * Which header a message uses follows from whether its API version is flexible
 * (compact encodings + tagged fields). Exception: ApiVersions responses always
 * use header v0, because a client reads that response before it knows which
 * versions the broker speaks.
 */

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Absent (undefined) in header v0. */
  clientId?: string | null;
  taggedFields?: TaggedField[];
}

export interface ResponseHeader {
  correlationId: number;
  taggedFields?: TaggedField[];
}

/** The 8 bytes every request starts with, read without allocating. */
export interface RequestPeek {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
}

/** Bytes of the int32 size prefix in front of every frame. */
export const SIZE_PREFIX_BYTES = 4;

/**
 * First flexible version of each API we know (null: never flexible). Facts from
 * Apache Kafka's message schemas (`flexibleVersions`). Unknown keys are not in
 * the table; callers treat those frames as opaque.
 */
const FIRST_FLEXIBLE_VERSION = new Map<number, number | null>([
  [ApiKey.Produce, 9],
  [ApiKey.Fetch, 12],
  [ApiKey.ListOffsets, 6],
  [ApiKey.Metadata, 9],
  [ApiKey.LeaderAndIsr, 4],
  [ApiKey.StopReplica, 2],
  [ApiKey.UpdateMetadata, 6],
  [ApiKey.ControlledShutdown, 3],
  [ApiKey.OffsetCommit, 8],
  [ApiKey.OffsetFetch, 6],
  [ApiKey.FindCoordinator, 3],
  [ApiKey.JoinGroup, 6],
  [ApiKey.Heartbeat, 4],
  [ApiKey.LeaveGroup, 4],
  [ApiKey.SyncGroup, 4],
  [ApiKey.DescribeGroups, 5],
  [ApiKey.ListGroups, 3],
  [ApiKey.SaslHandshake, null],
  [ApiKey.ApiVersions, 3],
  [ApiKey.CreateTopics, 5],
  [ApiKey.DeleteTopics, 4],
  [ApiKey.DeleteRecords, 2],
  [ApiKey.InitProducerId, 2],
  [ApiKey.OffsetForLeaderEpoch, 4],
  [ApiKey.AddPartitionsToTxn, 3],
  [ApiKey.AddOffsetsToTxn, 3],
  [ApiKey.EndTxn, 3],
  [ApiKey.WriteTxnMarkers, 1],
  [ApiKey.TxnOffsetCommit, 3],
  [ApiKey.DescribeAcls, 2],
  [ApiKey.CreateAcls, 2],
  [ApiKey.DeleteAcls, 2],
  [ApiKey.DescribeConfigs, 4],
  [ApiKey.AlterConfigs, 2],
  [ApiKey.AlterReplicaLogDirs, 2],
  [ApiKey.DescribeLogDirs, 2],
  [ApiKey.SaslAuthenticate, 2],
  [ApiKey.CreatePartitions, 2],
  [ApiKey.CreateDelegationToken, 2],
  [ApiKey.RenewDelegationToken, 2],
  [ApiKey.ExpireDelegationToken, 2],
  [ApiKey.DescribeDelegationToken, 2],
  [ApiKey.DeleteGroups, 2],
  [ApiKey.ElectLeaders, 2],
  [ApiKey.IncrementalAlterConfigs, 1],
  [ApiKey.AlterPartitionReassignments, 0],
  [ApiKey.ListPartitionReassignments, 0],
  [ApiKey.OffsetDelete, null],
  [ApiKey.DescribeClientQuotas, 1],
  [ApiKey.AlterClientQuotas, 1],
  [ApiKey.DescribeUserScramCredentials, 0],
  [ApiKey.AlterUserScramCredentials, 0],
  [ApiKey.DescribeCluster, 0],
  [ApiKey.DescribeProducers, 0],
  [ApiKey.DescribeTransactions, 0],
  [ApiKey.ListTransactions, 0],
  [ApiKey.ConsumerGroupHeartbeat, 0],
  [ApiKey.ConsumerGroupDescribe, 0],
  [ApiKey.GetTelemetrySubscriptions, 0],
  [ApiKey.PushTelemetry, 0],
  [ApiKey.DescribeTopicPartitions, 0],
]);

/** Whether (apiKey, apiVersion) uses compact encodings; undefined for an API we do not know. */
export function isFlexible(apiKey: number, apiVersion: number): boolean | undefined {
  if (!FIRST_FLEXIBLE_VERSION.has(apiKey)) return undefined;
  const first = FIRST_FLEXIBLE_VERSION.get(apiKey);
  return first !== null && first !== undefined && apiVersion >= first;
}

/** Request header version for (apiKey, apiVersion); undefined for an API we do not know. */
export function requestHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 | 2 | undefined {
  const flexible = isFlexible(apiKey, apiVersion);
  if (flexible === undefined) return undefined;
  if (flexible) return 2;
  // ControlledShutdown v0 predates client ids; nothing else uses header v0.
  return apiKey === ApiKey.ControlledShutdown && apiVersion === 0 ? 0 : 1;
}

/** Response header version for (apiKey, apiVersion); undefined for an API we do not know. */
export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 | undefined {
  if (apiKey === ApiKey.ApiVersions) return 0;
  const flexible = isFlexible(apiKey, apiVersion);
  if (flexible === undefined) return undefined;
  return flexible ? 1 : 0;
}

/**
 * Reads key, version and correlation id straight from a whole frame (size
 * prefix included). The hot path of the session: no Reader, no allocation.
 * Returns null when the frame is too short to be a request.
 */
export function peekRequestHeader(frame: Buffer): RequestPeek | null {
  if (frame.length < SIZE_PREFIX_BYTES + 8) return null;
  return {
    apiKey: frame.readInt16BE(SIZE_PREFIX_BYTES),
    apiVersion: frame.readInt16BE(SIZE_PREFIX_BYTES + 2),
    correlationId: frame.readInt32BE(SIZE_PREFIX_BYTES + 4),
  };
}

/** The correlation id of a whole response frame, or null when it is too short. */
export function peekCorrelationId(frame: Buffer): number | null {
  if (frame.length < SIZE_PREFIX_BYTES + 4) return null;
  return frame.readInt32BE(SIZE_PREFIX_BYTES);
}

/**
 * Decodes a request header from a reader positioned after the size prefix. With
 * no explicit version, the version is chosen from the API key and version read
 * first (an unknown API is read as v1, which every non-flexible request uses).
 */
export function decodeRequestHeader(reader: Reader, version?: 0 | 1 | 2): RequestHeader {
  const apiKey = reader.readInt16();
  const apiVersion = reader.readInt16();
  const correlationId = reader.readInt32();
  const v = version ?? requestHeaderVersion(apiKey, apiVersion) ?? 1;
  const header: RequestHeader = { apiKey, apiVersion, correlationId };
  if (v >= 1) header.clientId = reader.readNullableString();
  if (v >= 2) header.taggedFields = reader.readTaggedFields();
  return header;
}

export function encodeRequestHeader(header: RequestHeader, writer: Writer, version?: 0 | 1 | 2): Writer {
  const v = version ?? requestHeaderVersion(header.apiKey, header.apiVersion) ?? 1;
  writer.writeInt16(header.apiKey).writeInt16(header.apiVersion).writeInt32(header.correlationId);
  if (v >= 1) writer.writeNullableString(header.clientId ?? null);
  if (v >= 2) writer.writeTaggedFields(header.taggedFields ?? []);
  return writer;
}

export function decodeResponseHeader(reader: Reader, version: 0 | 1): ResponseHeader {
  const correlationId = reader.readInt32();
  if (version === 0) return { correlationId };
  return { correlationId, taggedFields: reader.readTaggedFields() };
}

export function encodeResponseHeader(header: ResponseHeader, writer: Writer, version: 0 | 1): Writer {
  writer.writeInt32(header.correlationId);
  if (version === 1) writer.writeTaggedFields(header.taggedFields ?? []);
  return writer;
}

/**
 * A reader over a whole frame's payload (size prefix checked and skipped).
 * The declared size must match the frame exactly: the bridge hands us whole
 * frames, so any difference means the bytes are not what we think they are.
 */
export function frameReader(frame: Buffer): Reader {
  if (frame.length < SIZE_PREFIX_BYTES) {
    throw new KafkaDecodeError('KAFKA_TRUNCATED', `A frame needs a ${SIZE_PREFIX_BYTES}-byte size prefix, got ${frame.length} bytes`);
  }
  const size = frame.readInt32BE(0);
  if (size !== frame.length - SIZE_PREFIX_BYTES) {
    throw new KafkaDecodeError('KAFKA_MALFORMED', `Frame says ${size} bytes but carries ${frame.length - SIZE_PREFIX_BYTES}`);
  }
  return new Reader(frame, SIZE_PREFIX_BYTES);
}
