import type { Reader, TaggedField } from './reader.ts';
import type { Writer } from './writer.ts';
import { checkVersion, NO_AUTHORIZED_OPERATIONS } from './flexible.ts';

/*
 * DescribeCluster response body (api key 60), v0–v1; every version is flexible
 * (compact strings and arrays, tagged fields at the end of each struct).
 *
 *   throttle_time_ms               int32
 *   error_code                     int16
 *   error_message                  nullable string
 *   endpoint_type                  int8     v1+ (1 brokers, 2 controllers)
 *   cluster_id                     string
 *   controller_id                  int32
 *   brokers                        array
 *     broker_id                    int32
 *     host                         string
 *     port                         int32
 *     rack                         nullable string
 *   cluster_authorized_operations  int32
 */

export const DESCRIBE_CLUSTER_RESPONSE_MAX_VERSION = 1;

export interface DescribeClusterBroker {
  brokerId: number;
  host: string;
  port: number;
  rack: string | null;
  taggedFields?: TaggedField[];
}

export interface DescribeClusterResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  endpointType?: number;
  clusterId: string;
  controllerId: number;
  brokers: DescribeClusterBroker[];
  clusterAuthorizedOperations?: number;
  taggedFields?: TaggedField[];
}

export function decodeDescribeClusterResponse(version: number, r: Reader): DescribeClusterResponse {
  checkVersion('DescribeCluster response', version, DESCRIBE_CLUSTER_RESPONSE_MAX_VERSION);
  const throttleTimeMs = r.readInt32();
  const errorCode = r.readInt16();
  const errorMessage = r.readCompactNullableString();
  const endpointType = version >= 1 ? r.readInt8() : 1;
  const clusterId = r.readCompactString();
  const controllerId = r.readInt32();
  const brokers = r.readCompactArray((r2): DescribeClusterBroker => {
    const brokerId = r2.readInt32();
    const host = r2.readCompactString();
    const port = r2.readInt32();
    const rack = r2.readCompactNullableString();
    return { brokerId, host, port, rack, taggedFields: r2.readTaggedFields() };
  });
  const clusterAuthorizedOperations = r.readInt32();
  const taggedFields = r.readTaggedFields();
  return { throttleTimeMs, errorCode, errorMessage, endpointType, clusterId, controllerId, brokers, clusterAuthorizedOperations, taggedFields };
}

export function encodeDescribeClusterResponse(version: number, data: DescribeClusterResponse, w: Writer): Writer {
  checkVersion('DescribeCluster response', version, DESCRIBE_CLUSTER_RESPONSE_MAX_VERSION);
  w.writeInt32(data.throttleTimeMs).writeInt16(data.errorCode).writeCompactNullableString(data.errorMessage);
  if (version >= 1) w.writeInt8(data.endpointType ?? 1);
  w.writeCompactString(data.clusterId).writeInt32(data.controllerId);
  w.writeCompactArray(data.brokers, (w2, b) => {
    w2.writeInt32(b.brokerId).writeCompactString(b.host).writeInt32(b.port).writeCompactNullableString(b.rack);
    w2.writeTaggedFields(b.taggedFields ?? []);
  });
  w.writeInt32(data.clusterAuthorizedOperations ?? NO_AUTHORIZED_OPERATIONS);
  w.writeTaggedFields(data.taggedFields ?? []);
  return w;
}
