import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiKey, ErrorCode } from '../kafka/api-keys.ts';
import { decodeFetchResponseV0, encodeFetchRequestV0 } from '../kafka/fetch-v0.ts';
import { decodeListOffsetsResponseV0, EARLIEST_TIMESTAMP, encodeListOffsetsRequestV0, LATEST_TIMESTAMP } from '../kafka/list-offsets-v0.ts';
import { decodeMessageSetV0, encodeMessageSetV0, type MessageV0 } from '../kafka/message-set-v0.ts';
import { encodeMetadataRequest } from '../kafka/metadata-request.ts';
import { decodeMetadataResponse } from '../kafka/metadata-response.ts';
import { decodeProduceResponseV0, encodeProduceRequestV0 } from '../kafka/produce-v0.ts';
import { startDemoBroker, type DemoBroker, type DemoBrokerOptions } from './broker.ts';
import { UNSUPPORTED_COMPRESSION_TYPE } from './store.ts';
import { TestKafkaClient } from './test-client.ts';

const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function broker(options: DemoBrokerOptions = {}): Promise<DemoBroker> {
  const b = await startDemoBroker(options);
  open.push(b);
  return b;
}

async function client(b: DemoBroker): Promise<TestKafkaClient> {
  const c = await TestKafkaClient.connect(b.url);
  open.unshift(c);
  return c;
}

const msg = (key: string | null, value: string): MessageV0 => ({ key: key === null ? null : Buffer.from(key), value: Buffer.from(value) });

async function produce(c: TestKafkaClient, topic: string, partition: number, set: Buffer | MessageV0[], acks = 1) {
  const messageSet = Buffer.isBuffer(set) ? set : encodeMessageSetV0(set);
  const reader = await c.request(ApiKey.Produce, 0, (w) => encodeProduceRequestV0({ acks, timeoutMs: 1000, topics: [{ topic, partitions: [{ partition, messageSet }] }] }, w), {
    expectResponse: acks !== 0,
  });
  return reader ? decodeProduceResponseV0(reader).topics[0].partitions[0] : null;
}

async function fetch(c: TestKafkaClient, topic: string, partition: number, fetchOffset: bigint, o: { maxBytes?: number; maxWaitMs?: number; minBytes?: number } = {}) {
  const reader = await c.call(ApiKey.Fetch, 0, (w) =>
    encodeFetchRequestV0(
      { replicaId: -1, maxWaitMs: o.maxWaitMs ?? 0, minBytes: o.minBytes ?? 0, topics: [{ topic, partitions: [{ partition, fetchOffset, maxBytes: o.maxBytes ?? 1 << 20 }] }] },
      w,
    ),
  );
  const p = decodeFetchResponseV0(reader).topics[0].partitions[0];
  const { messages, partialBytes } = decodeMessageSetV0(p.messageSet);
  return {
    errorCode: p.errorCode,
    highWatermark: p.highWatermark,
    partialBytes,
    bytes: p.messageSet.length,
    messages: messages.map((m) => ({ offset: m.offset, key: m.key?.toString() ?? null, value: m.value?.toString() ?? null })),
  };
}

async function listOffsets(c: TestKafkaClient, topic: string, partition: number, timestamp: bigint, maxNumOffsets = 1) {
  const reader = await c.call(ApiKey.ListOffsets, 0, (w) =>
    encodeListOffsetsRequestV0({ replicaId: -1, topics: [{ topic, partitions: [{ partition, timestamp, maxNumOffsets }] }] }, w),
  );
  return decodeListOffsetsResponseV0(reader).topics[0].partitions[0];
}

async function metadata(c: TestKafkaClient, topics: string[]) {
  const reader = await c.call(ApiKey.Metadata, 0, (w) => encodeMetadataRequest(0, { topics: topics.map((name) => ({ name })) }, w));
  return decodeMetadataResponse(0, reader);
}

describe('demo broker: Produce and Fetch v0', () => {
  it('assigns consecutive offsets and fetches back exact keys and values', async () => {
    const b = await broker();
    const c = await client(b);
    expect(await produce(c, 'test-topic', 0, [msg('k0', 'zero'), msg(null, 'one'), msg('k2', 'two')])).toEqual({ partition: 0, errorCode: 0, baseOffset: 0n });
    expect(await produce(c, 'test-topic', 0, [msg('k3', 'three'), msg('k4', 'four')])).toMatchObject({ errorCode: 0, baseOffset: 3n });
    expect(await produce(c, 'events', 2, [msg('e', 'elsewhere')])).toMatchObject({ errorCode: 0, baseOffset: 0n });

    const got = await fetch(c, 'test-topic', 0, 1n);
    expect(got).toMatchObject({ errorCode: 0, highWatermark: 5n, partialBytes: 0 });
    expect(got.messages).toEqual([
      { offset: 1n, key: null, value: 'one' },
      { offset: 2n, key: 'k2', value: 'two' },
      { offset: 3n, key: 'k3', value: 'three' },
      { offset: 4n, key: 'k4', value: 'four' },
    ]);
    expect(await fetch(c, 'test-topic', 0, 5n)).toMatchObject({ errorCode: 0, highWatermark: 5n, messages: [] });
    expect(b.topics().find((t) => t.name === 'events')?.partitions.map((p) => p.highWatermark)).toEqual([0n, 0n, 1n]);
  });

  it('refuses a set with a bad CRC as CORRUPT_MESSAGE and stores none of it', async () => {
    const b = await broker();
    const c = await client(b);
    const set = encodeMessageSetV0([msg('a', 'fine'), msg('b', 'tampered')]);
    set[set.indexOf('tampered')] ^= 0x01;
    expect(await produce(c, 'test-topic', 0, set)).toEqual({ partition: 0, errorCode: ErrorCode.CorruptMessage, baseOffset: -1n });
    expect(await fetch(c, 'test-topic', 0, 0n)).toMatchObject({ errorCode: 0, highWatermark: 0n, messages: [] });
    expect(await produce(c, 'test-topic', 0, [msg('c', 'after')])).toMatchObject({ errorCode: 0, baseOffset: 0n });
  });

  it('refuses compressed messages and a trailing partial message, without closing the connection', async () => {
    const b = await broker();
    const c = await client(b);
    const gzip = encodeMessageSetV0([{ key: null, value: Buffer.from('x'), attributes: 1 }]);
    expect(await produce(c, 'test-topic', 0, gzip)).toMatchObject({ errorCode: UNSUPPORTED_COMPRESSION_TYPE });
    const cut = encodeMessageSetV0([msg('a', 'whole'), msg('b', 'cut')]);
    expect(await produce(c, 'test-topic', 0, cut.subarray(0, cut.length - 2))).toMatchObject({ errorCode: ErrorCode.CorruptMessage });
    expect(await produce(c, 'test-topic', 0, [msg('c', 'ok')])).toMatchObject({ errorCode: 0, baseOffset: 0n });
  });

  it('sends no response for acks=0 but stores the messages', async () => {
    const b = await broker();
    const c = await client(b);
    const before = c.nextCorrelationId;
    expect(await produce(c, 'test-topic', 0, [msg('q', 'quiet')], 0)).toBeNull();
    const got = await fetch(c, 'test-topic', 0, 0n);
    expect(got.messages).toEqual([{ offset: 0n, key: 'q', value: 'quiet' }]);
    expect(c.received.map((f) => f.readInt32BE(4))).toEqual([before + 1]);
  });

  it('answers an unknown topic or partition with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const b = await broker();
    const c = await client(b);
    expect(await produce(c, 'nope', 0, [msg('a', 'b')])).toMatchObject({ errorCode: ErrorCode.UnknownTopicOrPartition, baseOffset: -1n });
    expect(await produce(c, 'events', 3, [msg('a', 'b')])).toMatchObject({ errorCode: ErrorCode.UnknownTopicOrPartition });
    expect(await fetch(c, 'nope', 0, 0n)).toMatchObject({ errorCode: ErrorCode.UnknownTopicOrPartition, highWatermark: -1n });
    expect(await listOffsets(c, 'nope', 0, LATEST_TIMESTAMP)).toEqual({ partition: 0, errorCode: ErrorCode.UnknownTopicOrPartition, offsets: [] });
  });

  it('answers a fetch outside the log with OFFSET_OUT_OF_RANGE', async () => {
    const b = await broker();
    const c = await client(b);
    await produce(c, 'test-topic', 0, [msg('a', '1')]);
    expect(await fetch(c, 'test-topic', 0, 2n)).toMatchObject({ errorCode: ErrorCode.OffsetOutOfRange, highWatermark: 1n, messages: [] });
    expect(await fetch(c, 'test-topic', 0, -1n)).toMatchObject({ errorCode: ErrorCode.OffsetOutOfRange });
  });

  it('returns whole messages up to max_bytes, and a partial one when the first does not fit', async () => {
    const b = await broker();
    const c = await client(b);
    const values = ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc'];
    await produce(c, 'test-topic', 0, values.map((v) => msg('k', v)));
    const entry = encodeMessageSetV0([msg('k', values[0])]).length;

    const two = await fetch(c, 'test-topic', 0, 0n, { maxBytes: 2 * entry + entry - 1 });
    expect(two.messages.map((m) => m.value)).toEqual(values.slice(0, 2));
    expect(two).toMatchObject({ partialBytes: 0, bytes: 2 * entry });

    const partial = await fetch(c, 'test-topic', 0, 1n, { maxBytes: entry - 3 });
    expect(partial).toMatchObject({ errorCode: 0, messages: [], partialBytes: entry - 3, bytes: entry - 3 });
    expect(await fetch(c, 'test-topic', 0, 1n, { maxBytes: 0 })).toMatchObject({ errorCode: 0, bytes: 0 });
  });
});

describe('demo broker: Fetch long poll', () => {
  it('holds a fetch until a produce on another connection brings data', async () => {
    const b = await broker();
    const consumer = await client(b);
    const producer = await client(b);
    // Far longer than the test timeout: only the produce can end this wait.
    const pending = fetch(consumer, 'events', 1, 0n, { maxWaitMs: 120_000, minBytes: 1 });
    await vi.waitFor(() => expect(b.stats().requests.Fetch).toBe(1), { timeout: 10_000 });
    expect(consumer.received).toHaveLength(0);
    await produce(producer, 'events', 0, [msg('other', 'partition')]);
    await produce(producer, 'events', 1, [msg('wake', 'up')]);
    expect((await pending).messages).toEqual([{ offset: 0n, key: 'wake', value: 'up' }]);
  });

  it('answers with what there is when max_wait_ms passes', async () => {
    const b = await broker();
    const c = await client(b);
    expect(await fetch(c, 'events', 0, 0n, { maxWaitMs: 20, minBytes: 1 })).toMatchObject({ errorCode: 0, highWatermark: 0n, messages: [] });
  });

  it('keeps responses in request order on one connection while a fetch waits', async () => {
    const b = await broker();
    const c = await client(b);
    const waiting = fetch(c, 'events', 2, 0n, { maxWaitMs: 120_000, minBytes: 1 });
    const meta = metadata(c, ['events']);
    b.append('events', 2, [msg('seed', 'data')]);
    const [fetched] = await Promise.all([waiting, meta]);
    expect(fetched.messages).toEqual([{ offset: 0n, key: 'seed', value: 'data' }]);
    expect(c.received.map((f) => f.readInt32BE(4))).toEqual([1, 2]);
  });

  it('lets a closing broker end a waiting fetch', async () => {
    const b = await startDemoBroker();
    const c = await TestKafkaClient.connect(b.url);
    const waiting = fetch(c, 'events', 0, 0n, { maxWaitMs: 120_000, minBytes: 1 }).catch((err: Error) => err);
    await vi.waitFor(() => expect(b.stats().requests.Fetch).toBe(1), { timeout: 10_000 });
    await b.close();
    expect(await c.closed).toMatchObject({ code: 1001 });
    await waiting;
  });
});

describe('demo broker: ListOffsets, Metadata, retention', () => {
  it('lists earliest and latest offsets, newest first up to max_num_offsets', async () => {
    const b = await broker();
    const c = await client(b);
    expect(await listOffsets(c, 'test-topic', 0, LATEST_TIMESTAMP)).toEqual({ partition: 0, errorCode: 0, offsets: [0n] });
    await produce(c, 'test-topic', 0, [msg('a', '1'), msg('b', '2'), msg('c', '3')]);
    expect((await listOffsets(c, 'test-topic', 0, LATEST_TIMESTAMP)).offsets).toEqual([3n]);
    expect((await listOffsets(c, 'test-topic', 0, LATEST_TIMESTAMP, 5)).offsets).toEqual([3n, 0n]);
    expect((await listOffsets(c, 'test-topic', 0, EARLIEST_TIMESTAMP, 5)).offsets).toEqual([0n]);
    expect((await listOffsets(c, 'test-topic', 0, LATEST_TIMESTAMP, 0)).offsets).toEqual([]);
    expect((await listOffsets(c, 'test-topic', 0, 1n)).offsets).toEqual([]);
  });

  it('drops the oldest messages past retention and moves the log start', async () => {
    const b = await broker({ retentionMessages: 3 });
    const c = await client(b);
    await produce(c, 'test-topic', 0, [msg('a', '0'), msg('b', '1')]);
    await produce(c, 'test-topic', 0, [msg('c', '2'), msg('d', '3'), msg('e', '4')]);
    expect((await listOffsets(c, 'test-topic', 0, EARLIEST_TIMESTAMP)).offsets).toEqual([2n]);
    expect((await listOffsets(c, 'test-topic', 0, LATEST_TIMESTAMP)).offsets).toEqual([5n]);
    expect(await fetch(c, 'test-topic', 0, 1n)).toMatchObject({ errorCode: ErrorCode.OffsetOutOfRange, highWatermark: 5n });
    expect((await fetch(c, 'test-topic', 0, 2n)).messages.map((m) => [m.offset, m.value])).toEqual([
      [2n, '2'],
      [3n, '3'],
      [4n, '4'],
    ]);
    expect(b.topics()[0].partitions[0]).toEqual({ partition: 0, logStartOffset: 2n, highWatermark: 5n, messages: 3 });
  });

  it('describes every topic for an empty list, with node 0 at the advertised address leading all', async () => {
    const b = await broker({ advertise: { host: 'tunnel.local', port: 19092 } });
    const c = await client(b);
    const all = await metadata(c, []);
    expect(all.brokers).toEqual([expect.objectContaining({ nodeId: 0, host: 'tunnel.local', port: 19092 })]);
    expect(all.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual([
      ['test-topic', 0, 1],
      ['events', 0, 3],
    ]);
    expect(all.topics[1].partitions[2]).toMatchObject({ errorCode: 0, partitionIndex: 2, leaderId: 0, replicaNodes: [0], isrNodes: [0] });

    const some = await metadata(c, ['events', 'missing']);
    expect(some.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual([
      ['events', 0, 3],
      ['missing', ErrorCode.UnknownTopicOrPartition, 0],
    ]);
  });

  it('advertises its own address by default and serves the topics it is given', async () => {
    const b = await broker({ topics: [{ name: 'solo', partitions: 2 }] });
    const c = await client(b);
    const all = await metadata(c, []);
    expect(all.brokers[0]).toMatchObject({ host: '127.0.0.1', port: b.port });
    expect(all.topics.map((t) => t.name)).toEqual(['solo']);
    expect(b.url).toBe(`ws://127.0.0.1:${b.port}/`);
  });
});

describe('demo broker: like kafka-worker, silent on anything else', () => {
  it('never answers ApiVersions or other versions, and keeps the connection open', async () => {
    const b = await broker();
    const c = await client(b);
    const apiVersions = c.nextCorrelationId;
    await c.request(ApiKey.ApiVersions, 0, () => {}, { expectResponse: false });
    await c.request(ApiKey.ApiVersions, 3, (w) => w.writeCompactString('client').writeCompactString('1.0').writeTaggedFields(), { expectResponse: false });
    await c.request(ApiKey.Metadata, 1, (w) => w.writeInt32(-1), { expectResponse: false });
    await c.request(ApiKey.FindCoordinator, 0, (w) => w.writeString('group'), { expectResponse: false });
    // Requests are answered in order, so once this answer is in, the four before it were passed over.
    await metadata(c, []);
    expect(c.received.map((f) => f.readInt32BE(4))).toEqual([apiVersions + 4]);
    expect(c.open).toBe(true);
    expect(b.stats()).toMatchObject({
      requests: { ApiVersions: 2, Metadata: 2, FindCoordinator: 1 },
      ignored: { 'ApiVersions v0': 1, 'ApiVersions v3': 1, 'Metadata v1': 1, 'FindCoordinator v0': 1 },
      malformedClosed: 0,
    });
  });
});

describe('demo broker: bad input closes one connection, never the broker', () => {
  it('closes on a size prefix that does not match the message', async () => {
    const b = await broker();
    const bad = await client(b);
    const good = await client(b);
    const frame = Buffer.alloc(16);
    frame.writeInt32BE(20, 0);
    frame.writeInt16BE(ApiKey.Metadata, 4);
    bad.sendRaw(frame);
    expect(await bad.closed).toMatchObject({ code: 1007, reason: expect.stringContaining('size prefix') });
    expect((await metadata(good, [])).topics).toHaveLength(2);
    expect(b.stats().malformedClosed).toBe(1);
  });

  it('closes on a text message, and on a body that does not parse', async () => {
    const b = await broker();
    const text = await client(b);
    text.sendRaw('hello');
    expect(await text.closed).toMatchObject({ code: 1003 });

    const truncated = await client(b);
    await truncated.request(ApiKey.Produce, 0, (w) => w.writeInt16(1).writeInt32(1000).writeInt32(1).writeInt16(200), { expectResponse: false });
    expect(await truncated.closed).toMatchObject({ code: 1007, reason: expect.stringContaining('Produce') });

    const tiny = await client(b);
    tiny.sendRaw(Buffer.from([0, 0, 0, 1, 0]));
    expect(await tiny.closed).toMatchObject({ code: 1007 });

    const after = await client(b);
    expect(await produce(after, 'test-topic', 0, [msg('still', 'here')])).toMatchObject({ errorCode: 0 });
    expect(b.stats()).toMatchObject({ malformedClosed: 3, connectionsOpen: 1, connectionsTotal: 4 });
  });

  it('closes a connection that sends a frame above maxFrameBytes', async () => {
    const b = await broker({ maxFrameBytes: 1024 });
    const c = await client(b);
    c.sendRaw(Buffer.alloc(2048));
    expect(await c.closed).toMatchObject({ code: 1009 });
  });
});

describe('demo broker: lifecycle', () => {
  it('stalls while paused and answers what was sent once resumed', async () => {
    const b = await broker();
    const c = await client(b);
    b.pause();
    const answer = metadata(c, []);
    await sleep(100);
    expect(c.received).toHaveLength(0);
    b.resume();
    expect((await answer).topics).toHaveLength(2);
  });

  it('frees its port on close, and refuses a port already taken', async () => {
    const b = await startDemoBroker();
    const port = b.port;
    await b.close();
    const again = await broker({ port });
    expect(again.port).toBe(port);
    await expect(startDemoBroker({ port })).rejects.toMatchObject({ code: 'PORT_IN_USE' });
  });

  it('refuses bad topic settings with a sentence', async () => {
    await expect(startDemoBroker({ topics: [{ name: 'bad name', partitions: 1 }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(startDemoBroker({ topics: [{ name: 'ok', partitions: 0 }] })).rejects.toThrow(/between 1 and 10000 partitions/);
  });

  it('answers plain HTTP with 426 Upgrade Required', async () => {
    const b = await broker();
    const res = await globalThis.fetch(`http://127.0.0.1:${b.port}/`);
    expect(res.status).toBe(426);
    await res.text();
  });
});
