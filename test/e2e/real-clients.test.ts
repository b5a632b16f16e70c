import { afterEach, describe, expect, it } from 'vitest';
import { startDemoBroker, type DemoBroker } from '../../proxy/demo-broker/index.ts';
import { Tunnel } from '../../proxy/tunnel.ts';
import { profileSchema } from '../../shared/profile.ts';
import { describeRun, freePort, hasKafkaPython, hasKcat, KAFKA_PYTHON_SCRIPT, KCAT, KCAT_KAFKA_08, PYTHON, run } from '../support/clients.ts';

/*
 * Real Kafka clients (Debian's kcat and python3-kafka) through a real Tunnel to
 * the demo broker, which speaks only what kafka-worker speaks. The tunnel here is
 * plain forwarding (no Kafka-aware session), so the clients are told to speak
 * Kafka 0.8, and the broker advertises the tunnel's address so that clients
 * following Metadata come back through the tunnel.
 */

interface Pair {
  tunnel: Tunnel;
  broker: DemoBroker;
  bootstrap: string;
}

const running: Pair[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) {
    await p.tunnel.stop();
    await p.broker.close();
  }
});

/** Tunnel first (port 0), then the broker on a port chosen beforehand, advertising the tunnel. */
async function tunnelToDemoBroker(): Promise<Pair> {
  const brokerPort = await freePort();
  const tunnel = new Tunnel(
    profileSchema.parse({ id: 'e2e', name: 'End to end', broker: `127.0.0.1:${brokerPort}`, listenPort: 0, compatibility: 'passthrough' }),
  );
  await tunnel.start();
  const broker = await startDemoBroker({ port: brokerPort, advertise: { host: '127.0.0.1', port: tunnel.port } });
  const pair = { tunnel, broker, bootstrap: `127.0.0.1:${tunnel.port}` };
  running.push(pair);
  return pair;
}

describe('the clients are installed', () => {
  // Missing clients fail loudly: the suite below would prove nothing without them.
  it('has kcat at /usr/bin/kcat', () => expect(hasKcat()).toBe(true));
  it('has kafka-python for /usr/bin/python3', () => expect(hasKafkaPython()).toBe(true));
});

describe('kcat (librdkafka) through a tunnel', () => {
  it('produces and consumes exact keys, values and offsets', async () => {
    const { bootstrap, broker, tunnel } = await tunnelToDemoBroker();
    const common = ['-b', bootstrap, '-t', 'test-topic', '-p', '0', ...KCAT_KAFKA_08];

    const produced = await run(KCAT, [...common, '-P', '-K', ':'], { input: 'k0:first\nk1:second value\nk2:third\n' });
    expect(produced.code, describeRun('kcat -P', produced)).toBe(0);
    expect(broker.topics()[0].partitions[0].highWatermark).toBe(3n);

    const again = await run(KCAT, [...common, '-P', '-K', ':'], { input: 'k3:fourth\n' });
    expect(again.code, describeRun('kcat -P', again)).toBe(0);

    const consumed = await run(KCAT, [...common, '-C', '-o', 'beginning', '-e', '-f', '%o %k %s\n']);
    expect(consumed.code, describeRun('kcat -C', consumed)).toBe(0);
    expect(consumed.stdout).toBe('0 k0 first\n1 k1 second value\n2 k2 third\n3 k3 fourth\n');

    const fromOffset = await run(KCAT, [...common, '-C', '-o', '2', '-e', '-f', '%o %s\n']);
    expect(fromOffset.code, describeRun('kcat -C -o 2', fromOffset)).toBe(0);
    expect(fromOffset.stdout).toBe('2 third\n3 fourth\n');

    // Every request crossed the tunnel to a broker that answers only v0.
    // librdkafka may batch the three messages into one or more requests; the watermark and the
    // exact consumed output above prove nothing was lost or duplicated.
    const requests = broker.stats().requests;
    expect(requests).toMatchObject({ Produce: expect.any(Number), Fetch: expect.any(Number), ListOffsets: expect.any(Number), Metadata: expect.any(Number) });
    expect(requests.Produce).toBeGreaterThanOrEqual(2);
    expect(broker.stats().ignored).toEqual({});
    // Nothing went around the tunnel: every broker connection came through it (a client that left
    // before its WebSocket opened may have been accepted by the tunnel and never reached the broker).
    expect(broker.stats().connectionsTotal).toBeGreaterThan(0);
    expect(broker.stats().connectionsTotal).toBeLessThanOrEqual(tunnel.snapshot().connections.total);
  });

  it('lists the topics the broker advertises (-L)', async () => {
    const { bootstrap, tunnel } = await tunnelToDemoBroker();
    const listed = await run(KCAT, ['-b', bootstrap, '-L', ...KCAT_KAFKA_08]);
    expect(listed.code, describeRun('kcat -L', listed)).toBe(0);
    expect(listed.stdout).toContain(`broker 0 at 127.0.0.1:${tunnel.port}`);
    expect(listed.stdout).toMatch(/topic "events" with 3 partitions/);
    expect(listed.stdout).toMatch(/topic "test-topic" with 1 partitions/);
  });
});

describe('kafka-python through a tunnel', () => {
  it('produces across the partitions of events and reads every message back', async () => {
    const { bootstrap, broker } = await tunnelToDemoBroker();
    const sent = [
      [0, 'a0', 'alpha'],
      [1, 'b0', 'bravo'],
      [2, 'c0', 'charlie'],
      [1, 'b1', 'bravo two'],
      [0, 'a1', 'alpha two'],
      [1, 'b2', 'bravo three'],
    ] as const;
    const produced = await run(PYTHON, [KAFKA_PYTHON_SCRIPT, 'produce', bootstrap, 'events'], {
      input: sent.map(([p, k, v]) => `${p}\t${k}\t${v}`).join('\n'),
    });
    expect(produced.code, describeRun('kafka-python produce', produced)).toBe(0);
    // Offsets are per partition, in send order.
    expect(produced.stdout).toBe('0 0\n1 0\n2 0\n1 1\n0 1\n1 2\n');
    expect(broker.topics().find((t) => t.name === 'events')?.partitions.map((p) => p.highWatermark)).toEqual([2n, 3n, 1n]);

    const consumed = await run(PYTHON, [KAFKA_PYTHON_SCRIPT, 'consume', bootstrap, 'events', '--partitions', '0,1,2', '--count', String(sent.length)]);
    expect(consumed.code, describeRun('kafka-python consume', consumed)).toBe(0);
    expect(consumed.stdout.trim().split('\n').sort()).toEqual([
      '0 0 a0 alpha',
      '0 1 a1 alpha two',
      '1 0 b0 bravo',
      '1 1 b1 bravo two',
      '1 2 b2 bravo three',
      '2 0 c0 charlie',
    ]);
  });

  it('reads what kcat wrote', async () => {
    const { bootstrap } = await tunnelToDemoBroker();
    const produced = await run(KCAT, ['-b', bootstrap, '-t', 'events', '-p', '2', '-P', '-K', ':', ...KCAT_KAFKA_08], { input: 'x:from kcat\ny:also kcat\n' });
    expect(produced.code, describeRun('kcat -P', produced)).toBe(0);
    const consumed = await run(PYTHON, [KAFKA_PYTHON_SCRIPT, 'consume', bootstrap, 'events', '--partitions', '2', '--count', '2']);
    expect(consumed.code, describeRun('kafka-python consume', consumed)).toBe(0);
    expect(consumed.stdout).toBe('2 0 x from kcat\n2 1 y also kcat\n');
  });
});
