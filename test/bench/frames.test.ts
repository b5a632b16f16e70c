import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../proxy/kafka/api-keys.ts';
import { decodeFetchRequestV0, decodeFetchResponseV0 } from '../../proxy/kafka/fetch-v0.ts';
import { decodeRequestHeader, decodeResponseHeader, frameReader } from '../../proxy/kafka/headers.ts';
import { decodeMessageSetV0 } from '../../proxy/kafka/message-set-v0.ts';
import { decodeMetadataResponse } from '../../proxy/kafka/metadata-response.ts';
import { readProduceAcks } from '../../proxy/kafka/produce-acks.ts';
import { decodeProduceRequestV0, decodeProduceResponseV0 } from '../../proxy/kafka/produce-v0.ts';
import {
  CLIENT_ID,
  FramePool,
  FrameScanner,
  PROBE_BROKER,
  fetchRequest,
  fetchResponse,
  metadataResponse,
  produceRequest,
  produceResponse,
  requestFor,
  responseFor,
} from './frames.ts';

const MiB = 1024 * 1024;

describe('benchmark frames', () => {
  it('builds a 64-byte Produce v0 request with acks=1 that the session reads as such', () => {
    const { frame } = produceRequest(64);
    expect(frame.length).toBe(64);
    const r = frameReader(frame);
    expect(decodeRequestHeader(r)).toMatchObject({ apiKey: ApiKey.Produce, apiVersion: 0, clientId: CLIENT_ID });
    const body = decodeProduceRequestV0(r);
    expect(body.acks).toBe(1);
    expect(r.remaining).toBe(0);
    expect(readProduceAcks(frame)).toBe(1);
  });

  it('fills a 1 MiB Produce request with one message whose CRC is valid', () => {
    const { frame } = produceRequest(MiB);
    expect(frame.length).toBe(MiB);
    const r = frameReader(frame);
    decodeRequestHeader(r);
    const set = decodeMessageSetV0(decodeProduceRequestV0(r).topics[0].partitions[0].messageSet);
    expect(set.messages).toHaveLength(1);
    expect(set.messages[0].crcValid).toBe(true);
    expect(set.partialBytes).toBe(0);
  });

  it('pads a Produce response to the size asked for with partition results, all without error', () => {
    for (const size of [37, 64, 100, 300]) {
      const { frame } = produceResponse(size);
      expect(frame.length).toBe(size);
      const r = frameReader(frame);
      decodeResponseHeader(r, 0);
      const body = decodeProduceResponseV0(r);
      expect(r.remaining).toBe(0);
      expect(body.topics[0].partitions.every((p) => p.errorCode === 0)).toBe(true);
    }
  });

  it('builds a small Fetch request and a 1 MiB Fetch response that decode exactly', () => {
    const request = fetchRequest(64).frame;
    expect(request.length).toBe(64);
    const rq = frameReader(request);
    expect(decodeRequestHeader(rq).apiKey).toBe(ApiKey.Fetch);
    decodeFetchRequestV0(rq);
    expect(rq.remaining).toBe(0);

    const response = fetchResponse(MiB).frame;
    expect(response.length).toBe(MiB);
    const rs = frameReader(response);
    decodeResponseHeader(rs, 0);
    const partition = decodeFetchResponseV0(rs).topics[0].partitions[0];
    expect(partition.errorCode).toBe(0);
    expect(decodeMessageSetV0(partition.messageSet).messages[0].crcValid).toBe(true);
  });

  it('gives the natural size when asked for less', () => {
    expect(produceRequest(1).frame.length).toBe(48);
  });

  it('answers Metadata with the probe broker and refuses APIs it has no answer for', () => {
    const r = frameReader(metadataResponse().frame);
    decodeResponseHeader(r, 0);
    expect(decodeMetadataResponse(0, r).brokers).toEqual([expect.objectContaining({ host: PROBE_BROKER.host, port: PROBE_BROKER.port })]);
    expect(() => responseFor(ApiKey.ApiVersions, 64)).toThrow(/no answer for API key 18/);
  });

  it('asks with Fetch when the answer is the big side, else with Produce', () => {
    expect(requestFor({ requestBytes: 64, responseBytes: MiB }).apiKey).toBe(ApiKey.Fetch);
    expect(requestFor({ requestBytes: MiB, responseBytes: 64 }).apiKey).toBe(ApiKey.Produce);
    expect(requestFor({ requestBytes: 64, responseBytes: 64 }).apiKey).toBe(ApiKey.Produce);
  });
});

describe('FramePool', () => {
  it('patches the correlation id into copies and reuses a released copy', () => {
    const template = produceRequest(64);
    const pool = new FramePool(template);
    const a = pool.take(7);
    const b = pool.take(8);
    expect(a).not.toBe(b);
    expect(a.readInt32BE(8)).toBe(7);
    expect(b.readInt32BE(8)).toBe(8);
    expect(template.frame.readInt32BE(8)).toBe(0);
    pool.release(a);
    const c = pool.take(9);
    expect(c).toBe(a);
    expect(c.readInt32BE(8)).toBe(9);
  });
});

describe('FrameScanner', () => {
  const frames = [produceResponse(64).frame, Buffer.from([0, 0, 0, 0]), Buffer.from([0, 0, 0, 2, 9, 9]), fetchResponse(5000).frame];
  frames[0].writeInt32BE(41, 4);
  frames[3].writeInt32BE(42, 4);
  const stream = Buffer.concat(frames);

  function scan(chunks: Buffer[]): { head: Buffer; size: number }[] {
    const seen: { head: Buffer; size: number }[] = [];
    const scanner = new FrameScanner({ maxFrameBytes: MiB });
    for (const c of chunks) scanner.push(c, (head, size) => seen.push({ head: Buffer.from(head), size }));
    return seen;
  }

  const expected = [
    { head: frames[0].subarray(0, 12), size: 64 },
    { head: frames[1], size: 4 },
    { head: frames[2], size: 6 },
    { head: frames[3].subarray(0, 12), size: 5000 },
  ];

  it('finds every frame when they arrive in one chunk', () => {
    expect(scan([stream])).toEqual(expected);
  });

  it('finds every frame when the stream arrives one byte at a time', () => {
    expect(scan([...stream].map((b) => Buffer.from([b])))).toEqual(expected);
  });

  it('finds every frame when chunks split size prefixes and heads', () => {
    const cuts = [2, 7, 66, 69, 75, 80, 3000];
    const chunks = cuts.map((end, i) => stream.subarray(i === 0 ? 0 : cuts[i - 1], end));
    chunks.push(stream.subarray(cuts.at(-1)));
    expect(scan(chunks)).toEqual(expected);
  });

  it('refuses a negative or oversized size', () => {
    const scanner = new FrameScanner({ maxFrameBytes: 100 });
    expect(() => scanner.push(Buffer.from([0xff, 0xff, 0xff, 0xff]), () => {})).toThrow(/-1 bytes/);
    expect(() => new FrameScanner({ maxFrameBytes: 100 }).push(Buffer.from([0, 0, 1, 0]), () => {})).toThrow(/256 bytes/);
  });
});
