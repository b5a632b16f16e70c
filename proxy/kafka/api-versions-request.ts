import type { Reader, TaggedField } from './reader.ts';
import type { Writer } from './writer.ts';
import { checkVersion } from './flexible.ts';

/*
 * ApiVersions request body (api key 18), v0–v4; flexible from v3.
 *
 *   v0–v2: empty
 *   client_software_name     compact string   v3+
 *   client_software_version  compact string   v3+
 */

export const API_VERSIONS_REQUEST_MAX_VERSION = 4;

export interface ApiVersionsRequest {
  clientSoftwareName?: string;
  clientSoftwareVersion?: string;
  taggedFields?: TaggedField[];
}

export function decodeApiVersionsRequest(version: number, r: Reader): ApiVersionsRequest {
  checkVersion('ApiVersions request', version, API_VERSIONS_REQUEST_MAX_VERSION);
  if (version < 3) return {};
  const clientSoftwareName = r.readCompactString();
  const clientSoftwareVersion = r.readCompactString();
  return { clientSoftwareName, clientSoftwareVersion, taggedFields: r.readTaggedFields() };
}

export function encodeApiVersionsRequest(version: number, data: ApiVersionsRequest, w: Writer): Writer {
  checkVersion('ApiVersions request', version, API_VERSIONS_REQUEST_MAX_VERSION);
  if (version < 3) return w;
  w.writeCompactString(data.clientSoftwareName ?? '').writeCompactString(data.clientSoftwareVersion ?? '');
  return w.writeTaggedFields(data.taggedFields ?? []);
}
