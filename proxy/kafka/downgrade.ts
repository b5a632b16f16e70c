import { ApiKey } from './api-keys.ts';
import { lowerMessageSet } from './downgrade-message-set.ts';
import { KafkaDecodeError } from './errors.ts';
import { checkFullyRead } from './flexible.ts';
import { frameReader, SIZE_PREFIX_BYTES } from './headers.ts';
import { decodeMetadataRequest, encodeMetadataRequest } from './metadata-request.ts';
import { decodeMetadataResponse, encodeMetadataResponse } from './metadata-response.ts';
import { decodeProduceRequestV0, decodeProduceResponseV0, encodeProduceRequestV0 } from './produce-v0.ts';
import type { Reader } from './reader.ts';
import { Writer } from './writer.ts';

/*
 * Translation for clients that send a 0.8-era broker versions above v0 even
 * though our ApiVersions answer lists v0 only. kafka-python 2.0.2 without
 * api_version is the case in point: any ApiVersions answer makes it assume a
 * 0.10 broker, so it sends Metadata v1, Produce v2 and Fetch v2. Requests go
 * down to v0, responses come back up to the version the client asked for.
 * Only the request header's api_version changes (header v1 everywhere here: none
 * of these versions is flexible); correlation id and client id stay, and the
 * response header stays v0.
 *
 * What differs from v0, per the protocol's message definitions:
 *
 * Metadata v1–v8 (translated: v1–v8)
 *   request   topics nullable from v1: null = all topics (v0 says that with an
 *             empty array), empty = none (v0 cannot say it: we ask for all and
 *             answer with no topics); allow_auto_topic_creation v4+ and the
 *             authorized-operations flags v8+ are dropped: the broker decides.
 *   response  brokers[].rack v1+ (null), cluster_id v2+ (null), controller_id
 *             v1+ (the first broker), topics[].is_internal v1+, throttle v3+ (0),
 *             leader_epoch v7+ (-1), offline_replicas v5+ (none),
 *             authorized operations v8+ (not provided).
 * Produce v1–v2
 *   request   the same fields; the message sets may be in format v1 (magic 1),
 *             lowered to v0 (downgrade-message-set.ts).
 *   response  partitions[].log_append_time_ms int64 after base_offset v2+ (-1:
 *             the producer's own timestamps stand); throttle_time_ms int32 at the
 *             very end v1+ (0).
 * Fetch v1–v3
 *   request   v1, v2 as v0; v3 adds max_bytes int32 after min_bytes (dropped:
 *             the per-partition limits still hold).
 *   response  throttle_time_ms int32 first v1+ (0), then the v0 body. Message
 *             sets stay in format v0, as a 0.10 broker with an old log sends them.
 */

/** The highest client version translated to v0, per API. */
const TRANSLATED_MAX_VERSION: ReadonlyMap<number, number> = new Map([
  [ApiKey.Metadata, 8],
  [ApiKey.Produce, 2],
  [ApiKey.Fetch, 3],
]);

/** The version every translated request is sent in. */
export const DOWNGRADE_TARGET_VERSION = 0;

/** What the session keeps with a translated request to translate its response. */
export interface Downgrade {
  apiKey: number;
  /** The version the client asked in and expects its answer in. */
  clientVersion: number;
  /** Metadata v1+ asked for no topics: the broker was asked for all, the client gets none. */
  noTopics: boolean;
}

export interface DowngradedRequest {
  /** The whole v0 request frame for the broker. */
  frame: Buffer;
  downgrade: Downgrade;
  /** Format-v1 messages that could not be lowered and go on as they are. */
  keptMessages: number;
}

/** Whether a request of (apiKey, apiVersion) can be translated to v0. */
export function canDowngrade(apiKey: number, apiVersion: number): boolean {
  const max = TRANSLATED_MAX_VERSION.get(apiKey);
  return max !== undefined && apiVersion > DOWNGRADE_TARGET_VERSION && apiVersion <= max;
}

/**
 * Translates a whole request frame (size prefix included) to v0. Throws
 * KafkaDecodeError when the request cannot be read or is not translatable.
 */
export function downgradeRequest(frame: Buffer): DowngradedRequest {
  const r = frameReader(frame);
  const apiKey = r.readInt16();
  const clientVersion = r.readInt16();
  const correlationId = r.readInt32();
  if (!canDowngrade(apiKey, clientVersion)) {
    throw new KafkaDecodeError('KAFKA_UNSUPPORTED_VERSION', `API ${apiKey} v${clientVersion} has no translation to v${DOWNGRADE_TARGET_VERSION}`);
  }
  const clientIdStart = r.offset;
  r.readNullableString();
  const w = new Writer(frame.length);
  w.writeInt16(apiKey).writeInt16(DOWNGRADE_TARGET_VERSION).writeInt32(correlationId).writeRaw(frame.subarray(clientIdStart, r.offset));
  const downgrade: Downgrade = { apiKey, clientVersion, noTopics: false };
  let keptMessages = 0;
  switch (apiKey) {
    case ApiKey.Metadata: {
      const request = decodeMetadataRequest(clientVersion, r);
      checkFullyRead(r, `Metadata v${clientVersion} request`);
      downgrade.noTopics = request.topics !== null && request.topics.length === 0;
      // v0 writes "all topics" (null) as an empty array.
      encodeMetadataRequest(DOWNGRADE_TARGET_VERSION, { topics: downgrade.noTopics ? null : request.topics }, w);
      break;
    }
    case ApiKey.Produce: {
      const request = decodeProduceRequestV0(r);
      checkFullyRead(r, `Produce v${clientVersion} request`);
      for (const topic of request.topics) {
        for (const partition of topic.partitions) {
          const lowered = lowerMessageSet(partition.messageSet);
          partition.messageSet = lowered.set;
          keptMessages += lowered.kept;
        }
      }
      encodeProduceRequestV0(request, w);
      break;
    }
    case ApiKey.Fetch: {
      const body = frame.subarray(r.offset);
      if (clientVersion >= 3) {
        // replica_id, max_wait_ms, min_bytes, then max_bytes: the one field v0 lacks.
        if (body.length < 16) throw new KafkaDecodeError('KAFKA_TRUNCATED', `A Fetch v${clientVersion} request body of ${body.length} bytes is too short`);
        w.writeRaw(body.subarray(0, 12)).writeRaw(body.subarray(16));
      } else {
        w.writeRaw(body);
      }
      break;
    }
  }
  return { frame: w.toFrame(), downgrade, keptMessages };
}

/**
 * Translates a whole v0 response frame back up to the client's version. Throws
 * KafkaDecodeError when the broker's answer cannot be read as v0.
 */
export function upgradeResponse(frame: Buffer, downgrade: Downgrade): Buffer {
  const r = frameReader(frame);
  const version = downgrade.clientVersion;
  const w = new Writer(frame.length + 64);
  // Response header v0 in both versions: the correlation id.
  w.writeRaw(frame.subarray(SIZE_PREFIX_BYTES, SIZE_PREFIX_BYTES + 4));
  r.readInt32();
  switch (downgrade.apiKey) {
    case ApiKey.Metadata:
      upgradeMetadata(r, version, downgrade.noTopics, w);
      break;
    case ApiKey.Produce:
      upgradeProduce(r, version, w);
      break;
    case ApiKey.Fetch:
      // A Fetch answer is mostly message bytes: no need to decode them to move them.
      w.writeInt32(0).writeRaw(frame.subarray(r.offset));
      break;
    default:
      throw new KafkaDecodeError('KAFKA_UNSUPPORTED_VERSION', `API ${downgrade.apiKey} has no response translation`);
  }
  return w.toFrame();
}

function upgradeMetadata(r: Reader, version: number, noTopics: boolean, w: Writer): void {
  const data = decodeMetadataResponse(DOWNGRADE_TARGET_VERSION, r);
  checkFullyRead(r, 'Metadata v0 response');
  // A 0.8 cluster has no controller to report; its first broker is the one clients can reach.
  data.controllerId = data.brokers[0]?.nodeId ?? -1;
  for (const t of data.topics) t.isInternal = t.name === '__consumer_offsets';
  if (noTopics) data.topics = [];
  encodeMetadataResponse(version, data, w);
}

function upgradeProduce(r: Reader, version: number, w: Writer): void {
  const data = decodeProduceResponseV0(r);
  checkFullyRead(r, 'Produce v0 response');
  w.writeArray(data.topics, (wt, t) => {
    wt.writeString(t.topic).writeArray(t.partitions, (wp, p) => {
      wp.writeInt32(p.partition).writeInt16(p.errorCode).writeInt64(p.baseOffset);
      if (version >= 2) wp.writeInt64(-1n);
    });
  });
  if (version >= 1) w.writeInt32(0);
}
