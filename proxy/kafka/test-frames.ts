import { encodeRequestHeader, encodeResponseHeader, requestHeaderVersion, responseHeaderVersion } from './headers.ts';
import type { TaggedField } from './reader.ts';
import { Writer } from './writer.ts';

/*
 * Test support: whole frames (size prefix included) built with our Writer,
 * with the header version the API and version call for.
 */

export function requestFrame(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: (w: Writer) => void = () => {},
  clientId: string | null = 'test-client',
): Buffer {
  const w = new Writer();
  encodeRequestHeader({ apiKey, apiVersion, correlationId, clientId, taggedFields: [] }, w, requestHeaderVersion(apiKey, apiVersion) ?? 1);
  body(w);
  return w.toFrame();
}

export function responseFrame(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: (w: Writer) => void = () => {},
  headerTags: TaggedField[] = [],
): Buffer {
  const w = new Writer();
  encodeResponseHeader({ correlationId, taggedFields: headerTags }, w, responseHeaderVersion(apiKey, apiVersion) ?? 0);
  body(w);
  return w.toFrame();
}
