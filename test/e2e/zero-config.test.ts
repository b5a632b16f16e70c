import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoBroker, type DemoBroker } from '../../proxy/demo-broker/index.ts';
import { createEngine } from '../../proxy/engine.ts';
import { kafkajsSocketFactory } from '../../proxy/library.ts';
import type { TunnelManager } from '../../proxy/manager.ts';
import { profileSchema } from '../../shared/profile.ts';
import type { TunnelEvent } from '../../shared/stats.ts';
import { ApiKey } from '../../proxy/kafka/api-keys.ts';
import { decodeApiVersionsResponse } from '../../proxy/kafka/api-versions-response.ts';
import { Reader } from '../../proxy/kafka/reader.ts';
import { Writer } from '../../proxy/kafka/writer.ts';
import { describeRun, KAFKA_PYTHON_SCRIPT, KCAT, PYTHON, run } from '../support/clients.ts';
import { connectClient, FrameReader } from '../support/sockets.ts';

/*
 * The promise of the Kafka-aware tunnel: a user changes nothing but the bootstrap
 * address. Clients run with their defaults (no -X flags, no api_version), and the
 * demo broker advertises its OWN WebSocket address, not the tunnel's, as a broker
 * configured without the tunnel in mind would: clients still come back through
 * the tunnel because it rewrites Metadata.
 */

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');

let broker: DemoBroker;
let manager: TunnelManager;
let bootstrap: string;
let tunnelPort: number;
const events: TunnelEvent[] = [];

beforeAll(async () => {
  broker = await startDemoBroker();
  manager = createEngine();
  manager.on('event', (e) => events.push(e));
  const snap = await manager.start(
    profileSchema.parse({ id: 'zero', name: 'Zero config', broker: `127.0.0.1:${broker.port}`, listenPort: 0 }),
  );
  tunnelPort = snap.listen!.port;
  bootstrap = `127.0.0.1:${tunnelPort}`;
  expect(broker.advertise.port).toBe(broker.port);
  expect(broker.advertise.port).not.toBe(tunnelPort);
});

afterAll(async () => {
  await manager?.stopAll();
  await broker?.close();
});

function kafkajs(config: Partial<import('kafkajs').KafkaConfig> = {}) {
  return new Kafka({ clientId: 'zero-config-test', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 }, ...config });
}

describe('zero-config clients through a Kafka-aware tunnel', () => {
  it('kcat with default configuration lists the tunnel as the broker, produces and consumes', async () => {
    const listed = await run(KCAT, ['-b', bootstrap, '-L']);
    expect(listed.code, describeRun('kcat -L', listed)).toBe(0);
    expect(listed.stdout).toContain(`broker 0 at 127.0.0.1:${tunnelPort}`);

    const produced = await run(KCAT, ['-b', bootstrap, '-t', 'test-topic', '-P', '-K', ':'], { input: 'a:kcat one\nb:kcat two\n' });
    expect(produced.code, describeRun('kcat -P', produced)).toBe(0);
    const consumed = await run(KCAT, ['-b', bootstrap, '-t', 'test-topic', '-C', '-o', 'beginning', '-e', '-f', '%o %k %s\n']);
    expect(consumed.code, describeRun('kcat -C', consumed)).toBe(0);
    expect(consumed.stdout).toMatch(/^0 a kcat one\n1 b kcat two\n/);
  });

  it('kafka-python with no api_version produces and consumes across partitions', async () => {
    const produced = await run(PYTHON, [KAFKA_PYTHON_SCRIPT, 'produce', bootstrap, 'events', '--api-version', 'auto'], {
      input: '0\tp0\tpython zero\n2\tp2\tpython two\n2\tp2b\tpython two again\n',
    });
    expect(produced.code, describeRun('kafka-python produce', produced)).toBe(0);
    const offsets = produced.stdout.trim().split('\n');
    const consumed = await run(PYTHON, [KAFKA_PYTHON_SCRIPT, 'consume', bootstrap, 'events', '--partitions', '0,2', '--count', '3', '--api-version', 'auto']);
    expect(consumed.code, describeRun('kafka-python consume', consumed)).toBe(0);
    const lines = consumed.stdout.trim().split('\n').sort();
    expect(lines).toEqual([`0 ${offsets[0].split(' ')[1]} p0 python zero`, `2 ${offsets[1].split(' ')[1]} p2 python two`, `2 ${offsets[2].split(' ')[1]} p2b python two again`]);
  });

  it('KafkaJS produces and lists topics through the tunnel', async () => {
    const kafka = kafkajs();
    const admin = kafka.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata();
    await admin.disconnect();
    expect(metadata.topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual([
      ['events', 3],
      ['test-topic', 1],
    ]);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const [result] = await producer.send({ topic: 'events', messages: [{ key: 'js', value: 'from kafkajs', partition: 1 }] });
    await producer.disconnect();
    expect(result).toMatchObject({ topicName: 'events', partition: 1, errorCode: 0 });
    const partition = broker.topics().find((t) => t.name === 'events')!.partitions[1];
    // Produce v0 reports the base offset as `offset`.
    expect(partition.highWatermark).toBe(BigInt((result as { offset?: string }).offset!) + 1n);
  });

  it('KafkaJS through kafkajsSocketFactory needs no local port at all', async () => {
    const connectionsBefore = manager.snapshot('zero').connections.total;
    const kafka = new Kafka({
      clientId: 'socket-factory-test',
      brokers: ['kafka-over-websocket:9092'],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
      socketFactory: kafkajsSocketFactory({ broker: broker.url }) as unknown as import('kafkajs').ISocketFactory,
    });
    const admin = kafka.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: ['test-topic'] });
    await admin.disconnect();
    expect(metadata.topics).toEqual([expect.objectContaining({ name: 'test-topic', partitions: [expect.objectContaining({ partitionId: 0 })] })]);
    const producer = kafka.producer();
    await producer.connect();
    const [result] = await producer.send({ topic: 'test-topic', messages: [{ value: 'via socket factory' }] });
    await producer.disconnect();
    expect(result.errorCode).toBe(0);
    expect(manager.snapshot('zero').connections.total).toBe(connectionsBefore);
  });

  it('reports per-API counts and latencies for Produce, Fetch and Metadata in the tunnel snapshot', () => {
    const apis = new Map(manager.snapshot('zero').apis.map((a) => [a.name, a]));
    for (const name of ['Produce', 'Fetch', 'Metadata', 'ApiVersions']) {
      const api = apis.get(name);
      expect(api, name).toBeDefined();
      expect(api!.requests, name).toBeGreaterThan(0);
      expect(api!.responses, name).toBeGreaterThan(0);
      expect(api!.latencyMs.p50, name).toBeGreaterThanOrEqual(0);
      expect(api!.latencyMs.max, name).toBeGreaterThanOrEqual(api!.latencyMs.p99);
    }
    expect(apis.get('ApiVersions')!.local).toBeGreaterThan(0);
    expect(manager.snapshot('zero').legacyBroker).toBe(true);
    expect(events.some((e) => e.kind === 'legacy-fallback')).toBe(true);
    expect(events.some((e) => e.kind === 'rewrite')).toBe(true);
  });

  it('answers ApiVersions for the 0.8 broker, then closes a client that asks for what it cannot answer', async () => {
    const socket = await connectClient(tunnelPort);
    const reader = new FrameReader(socket);
    const request = (apiKey: number, apiVersion: number, correlationId: number, body: (w: Writer) => void) => {
      const w = new Writer().writeInt16(apiKey).writeInt16(apiVersion).writeInt32(correlationId).writeNullableString('raw-client');
      body(w);
      return w.toFrame();
    };
    socket.write(request(ApiKey.ApiVersions, 0, 1, () => {}));
    const [answer] = await reader.waitFor(1);
    const r = new Reader(answer, 4);
    expect(r.readInt32()).toBe(1);
    const versions = decodeApiVersionsResponse(0, r);
    expect(versions.errorCode).toBe(0);
    expect(versions.apiKeys.find((k) => k.apiKey === ApiKey.Metadata)).toMatchObject({ minVersion: 0, maxVersion: 0 });
    expect(versions.apiKeys.some((k) => k.apiKey === ApiKey.FindCoordinator)).toBe(false);

    socket.write(request(ApiKey.FindCoordinator, 0, 2, (w) => w.writeString('some-group')));
    await reader.waitForEnd();
    const refused = events.find((e) => e.kind === 'unsupported-request');
    expect(refused?.message).toMatch(/FindCoordinator v0 is not supported by this broker \(0\.8-era\)/);
  });
});
