import { describe, expect, it, vi } from 'vitest';
import { ApiKey } from '../kafka/api-keys.ts';
import { encodeMetadataRequest } from '../kafka/metadata-request.ts';
import { decodeMetadataResponse } from '../kafka/metadata-response.ts';
import { demoBrokerMain, parseDemoBrokerArgs } from './cli.ts';
import { TestKafkaClient } from './test-client.ts';

describe('demo-broker arguments', () => {
  it('reads every option, in both --flag value and --flag=value forms', () => {
    expect(parseDemoBrokerArgs(['--port', '9093', '--listen=0.0.0.0', '--advertise', 'localhost:9092', '--topics', 'orders:3, audit:1'])).toEqual({
      port: 9093,
      host: '0.0.0.0',
      advertise: { host: 'localhost', port: 9092 },
      topics: [
        { name: 'orders', partitions: 3 },
        { name: 'audit', partitions: 1 },
      ],
    });
    expect(parseDemoBrokerArgs([])).toEqual({});
    expect(parseDemoBrokerArgs(['--help'])).toBe('help');
  });

  it('refuses what it cannot use with a sentence that says how to fix it', () => {
    const refused = (argv: string[]) => {
      try {
        parseDemoBrokerArgs(argv);
      } catch (err) {
        return err as { code: string; message: string };
      }
      throw new Error(`${argv.join(' ')} was accepted`);
    };
    expect(refused(['--port', 'abc'])).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('0 to 65535') });
    expect(refused(['--port', '70000']).code).toBe('INVALID_ARGUMENT');
    expect(refused(['--advertise', 'nohost']).message).toContain('HOST:PORT');
    expect(refused(['--topics', 'orders']).message).toContain('NAME:PARTITIONS');
    expect(refused(['--bogus']).message).toContain('--help');
  });
});

describe('demoBrokerMain', () => {
  it('prints where it listens, serves clients, and stops cleanly when told to', async () => {
    const lines: string[] = [];
    const sigintListeners = process.listenerCount('SIGINT');
    const stop = new AbortController();
    const done = demoBrokerMain(['--topics', 'solo:2', '--advertise', 'localhost:19092'], { out: (l) => lines.push(l), signal: stop.signal });
    await vi.waitFor(() => expect(lines.length).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    const url = /ws:\/\/\S+/.exec(lines[0])?.[0] as string;
    expect(lines[1]).toContain('localhost:19092');
    expect(lines[1]).toContain('solo (2 partitions)');

    const c = await TestKafkaClient.connect(url);
    const meta = decodeMetadataResponse(0, await c.call(ApiKey.Metadata, 0, (w) => encodeMetadataRequest(0, { topics: null }, w)));
    expect(meta.brokers[0]).toMatchObject({ host: 'localhost', port: 19092 });
    expect(meta.topics.map((t) => t.name)).toEqual(['solo']);

    stop.abort();
    await done;
    expect(await c.closed).toMatchObject({ code: 1001 });
    expect(lines.at(-1)).toBe('Demo broker stopped.');
    expect(process.listenerCount('SIGINT')).toBe(sigintListeners);
  });

  it('prints usage for --help and returns', async () => {
    const lines: string[] = [];
    await demoBrokerMain(['--help'], { out: (l) => lines.push(l) });
    expect(lines.join('\n')).toContain('--advertise HOST:PORT');
  });
});
