import type { Reader, TaggedField } from './reader.ts';
import type { Writer } from './writer.ts';
import { checkVersion } from './flexible.ts';

/*
 * DescribeCluster request body (api key 60), v0–v1; always flexible.
 *
 *   include_cluster_authorized_operations  bool
 *   endpoint_type                          int8   v1+ (1 brokers, 2 controllers)
 */

export const DESCRIBE_CLUSTER_REQUEST_MAX_VERSION = 1;

export interface DescribeClusterRequest {
  includeClusterAuthorizedOperations: boolean;
  endpointType?: number;
  taggedFields?: TaggedField[];
}

export function decodeDescribeClusterRequest(version: number, r: Reader): DescribeClusterRequest {
  checkVersion('DescribeCluster request', version, DESCRIBE_CLUSTER_REQUEST_MAX_VERSION);
  const includeClusterAuthorizedOperations = r.readBoolean();
  const endpointType = version >= 1 ? r.readInt8() : 1;
  return { includeClusterAuthorizedOperations, endpointType, taggedFields: r.readTaggedFields() };
}

export function encodeDescribeClusterRequest(version: number, data: DescribeClusterRequest, w: Writer): Writer {
  checkVersion('DescribeCluster request', version, DESCRIBE_CLUSTER_REQUEST_MAX_VERSION);
  w.writeBoolean(data.includeClusterAuthorizedOperations);
  if (version >= 1) w.writeInt8(data.endpointType ?? 1);
  return w.writeTaggedFields(data.taggedFields ?? []);
}
