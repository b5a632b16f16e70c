import type { CompatibilityMode, HostPort } from '../../shared/profile.ts';
import { apiName } from './api-keys.ts';
import { DOWNGRADE_TARGET_VERSION, upgradeResponse, type Downgrade } from './downgrade.ts';
import { scanErrorCode } from './error-scan.ts';
import { responseHeaderVersion, SIZE_PREFIX_BYTES } from './headers.ts';
import type { Pending } from './pending-requests.ts';
import { Reader } from './reader.ts';
import { inspectResponse, INSPECTED_APIS } from './response-rewrite.ts';
import type { ReportOnce } from './session.ts';

export interface DeliveryOptions {
  readonly compatibility: CompatibilityMode;
  /** Where clients must come back to; null leaves broker addresses alone. */
  readonly advertised: HostPort | null;
}

export interface Delivery {
  /** What the client gets. */
  frame: Buffer;
  /** The response's size in the client's version, before any rewrite: what stats count. */
  bytes: number;
  errorCode: number | null;
}

/**
 * A broker response on its way to the client: back up to the client's version
 * when its request was translated down (downgrade.ts), broker addresses
 * rewritten and ApiVersions clamped (response-rewrite.ts, not in passthrough),
 * and its error code read for stats. A response it cannot read goes on
 * unchanged, with a warning.
 */
export function deliverResponse(entry: Pending, received: Buffer, options: DeliveryOptions, once: ReportOnce): Delivery {
  const { frame, version: apiVersion } = entry.downgrade ? upgrade(entry, entry.downgrade, received, once) : { frame: received, version: entry.apiVersion };
  let out = frame;
  let errorCode: number | null = null;
  const headerVersion = responseHeaderVersion(entry.apiKey, apiVersion);
  if (INSPECTED_APIS.has(entry.apiKey) && headerVersion !== undefined) {
    try {
      let bodyOffset = SIZE_PREFIX_BYTES + 4;
      if (headerVersion === 1) {
        const r = new Reader(frame, bodyOffset);
        r.readTaggedFields();
        bodyOffset = r.offset;
      }
      const inspection = inspectResponse(entry.apiKey, apiVersion, frame, bodyOffset, {
        advertised: options.advertised,
        clamp: options.compatibility !== 'passthrough',
      });
      out = inspection.frame;
      errorCode = inspection.errorCode;
      if (inspection.replaced && options.advertised) {
        const to = options.advertised;
        once('rewrite', 'info', 'rewrite', `Broker address ${inspection.replaced} is rewritten to ${to.host}:${to.port} so clients come back through the tunnel`);
      }
      if (inspection.clamped) {
        once('clamp', 'info', 'rewrite', 'Broker advertises API versions the tunnel cannot rewrite; the ApiVersions answer was lowered to Metadata v12, FindCoordinator v6, DescribeCluster v1 at most');
      }
    } catch (err) {
      out = frame;
      const detail = err instanceof Error ? err.message : String(err);
      once(`parse:${entry.apiKey}:${apiVersion}`, 'warn', 'parse-warning', `Could not read a ${apiName(entry.apiKey)} v${apiVersion} response (${detail}); passed through unchanged`);
    }
  } else {
    errorCode = scanErrorCode(entry.apiKey, apiVersion, frame, SIZE_PREFIX_BYTES + 4);
  }
  return { frame: out, bytes: frame.length, errorCode };
}

/** A translated request's answer, back in the client's version; unchanged (v0) when it cannot be read. */
function upgrade(entry: Pending, downgrade: Downgrade, frame: Buffer, once: ReportOnce): { frame: Buffer; version: number } {
  try {
    return { frame: upgradeResponse(frame, downgrade), version: entry.apiVersion };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    once(
      `upgrade:${entry.apiKey}:${entry.apiVersion}`,
      'warn',
      'parse-warning',
      `Could not translate a ${apiName(entry.apiKey)} v${DOWNGRADE_TARGET_VERSION} response back to v${entry.apiVersion} (${detail}); passed through unchanged`,
    );
    return { frame, version: DOWNGRADE_TARGET_VERSION };
  }
}
