import type { HostPort } from '../../shared/profile.ts';
import { formatHostPort } from '../../shared/profile.ts';
import { ApiKey } from './api-keys.ts';
import { encodeApiVersionsResponse, readApiVersionsResponse } from './api-versions-response.ts';
import { decodeDescribeClusterResponse, encodeDescribeClusterResponse } from './describe-cluster-response.ts';
import { decodeFindCoordinatorResponse, encodeFindCoordinatorResponse, findCoordinatorErrorCode } from './find-coordinator-response.ts';
import { checkFullyRead } from './flexible.ts';
import { clampApiVersions } from './legacy-table.ts';
import { decodeMetadataResponse, encodeMetadataResponse, metadataErrorCode } from './metadata-response.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

/*
 * The responses the session reads in full: the three that carry broker
 * addresses (rewritten to the tunnel's advertised address) and ApiVersions
 * (clamped to the versions we parse). A response is re-encoded only when
 * something in it changed; otherwise the original frame goes on untouched.
 * Decoding errors are thrown (KafkaDecodeError) for the session to turn into a
 * pass-through with a warning.
 */

export interface InspectOptions {
  /** Where clients must come back to; null leaves addresses alone. */
  advertised: HostPort | null;
  /** Clamp ApiVersions answers to the versions we parse. */
  clamp: boolean;
}

export interface Inspection {
  /** The frame to deliver: the original, or a re-encoded copy. */
  frame: Buffer;
  /** First non-zero error code in the body, 0 when none. */
  errorCode: number;
  /** An address that was replaced ("broker.example:9092"), for the event log. */
  replaced: string | null;
  /** ApiVersions entries lowered or dropped. */
  clamped: boolean;
}

/** Responses the session reads in full; everything else is only peeked at. */
export const INSPECTED_APIS: ReadonlySet<number> = new Set([ApiKey.ApiVersions, ApiKey.Metadata, ApiKey.FindCoordinator, ApiKey.DescribeCluster]);

/**
 * Reads the body at `bodyOffset` of a whole response `frame` for a request of
 * (apiKey, apiVersion) and returns what to deliver.
 */
export function inspectResponse(apiKey: number, apiVersion: number, frame: Buffer, bodyOffset: number, options: InspectOptions): Inspection {
  const r = new Reader(frame, bodyOffset);
  const target = options.advertised;
  const same = (host: string, port: number) => target === null || (host === target.host && port === target.port);
  const unchanged = (errorCode: number): Inspection => ({ frame, errorCode, replaced: null, clamped: false });
  const reframe = (encodeBody: (w: Writer) => void): Buffer => {
    const w = new Writer(frame.length + 64);
    // The response header is kept byte for byte; only the body is re-encoded.
    w.writeRaw(frame.subarray(4, bodyOffset));
    encodeBody(w);
    return w.toFrame();
  };

  switch (apiKey) {
    case ApiKey.ApiVersions: {
      const { version, data } = readApiVersionsResponse(apiVersion, r);
      const apiKeys = options.clamp ? clampApiVersions(data.apiKeys) : data.apiKeys;
      if (apiKeys === data.apiKeys) return unchanged(data.errorCode);
      return {
        frame: reframe((w) => encodeApiVersionsResponse(version, { ...data, apiKeys }, w)),
        errorCode: data.errorCode,
        replaced: null,
        clamped: true,
      };
    }
    case ApiKey.Metadata: {
      const data = decodeMetadataResponse(apiVersion, r);
      checkFullyRead(r, 'Metadata response');
      const changed = data.brokers.find((b) => !same(b.host, b.port));
      if (!changed || !target) return unchanged(metadataErrorCode(data));
      const replaced = formatHostPort(changed);
      for (const b of data.brokers) Object.assign(b, { host: target.host, port: target.port });
      return {
        frame: reframe((w) => encodeMetadataResponse(apiVersion, data, w)),
        errorCode: metadataErrorCode(data),
        replaced,
        clamped: false,
      };
    }
    case ApiKey.FindCoordinator: {
      const data = decodeFindCoordinatorResponse(apiVersion, r);
      checkFullyRead(r, 'FindCoordinator response');
      // A coordinator that reports an error carries no usable address (-1, "").
      const live = data.coordinators.filter((c) => c.errorCode === 0);
      const changed = live.find((c) => !same(c.host, c.port));
      if (!changed || !target) return unchanged(findCoordinatorErrorCode(data));
      const replaced = formatHostPort(changed);
      for (const c of live) Object.assign(c, { host: target.host, port: target.port });
      return {
        frame: reframe((w) => encodeFindCoordinatorResponse(apiVersion, data, w)),
        errorCode: findCoordinatorErrorCode(data),
        replaced,
        clamped: false,
      };
    }
    case ApiKey.DescribeCluster: {
      const data = decodeDescribeClusterResponse(apiVersion, r);
      checkFullyRead(r, 'DescribeCluster response');
      const changed = data.brokers.find((b) => !same(b.host, b.port));
      if (!changed || !target) return unchanged(data.errorCode);
      const replaced = formatHostPort(changed);
      for (const b of data.brokers) Object.assign(b, { host: target.host, port: target.port });
      return {
        frame: reframe((w) => encodeDescribeClusterResponse(apiVersion, data, w)),
        errorCode: data.errorCode,
        replaced,
        clamped: false,
      };
    }
    default:
      return unchanged(0);
  }
}
