import { describe, expect, it } from 'vitest';
import { UsageError, parseArgs } from './args.ts';
import { buildProfiles } from './main.ts';

describe('CLI flags', () => {
  it('keeps the original proxy defaults', () => {
    const o = parseArgs([]);
    expect(o).toMatchObject({ port: 8080, broker: 'localhost:8787', tls: false });
    expect(buildProfiles(o)[0]).toMatchObject({ listenPort: 8080, broker: 'localhost:8787', listenHost: '127.0.0.1', tls: false });
  });

  it.each([
    [['-port', '9000', '-broker', 'b.example:443', '-tls']],
    [['--port', '9000', '--broker', 'b.example:443', '--tls']],
    [['-port=9000', '-broker=b.example:443', '-tls=true']],
    [['--port=9000', '--broker=b.example:443', '-tls', '-tls=1']],
  ])('accepts Go flag syntax %j', (argv) => {
    expect(parseArgs(argv)).toMatchObject({ port: 9000, broker: 'b.example:443', tls: true });
  });

  it('turns a boolean off with =false', () => {
    expect(parseArgs(['-tls=false']).tls).toBe(false);
  });

  it('collects repeated headers and marks credentials secret', () => {
    const p = buildProfiles(parseArgs(['--header', 'Authorization: Bearer x', '--header=CF-Access-Client-Id: abc']))[0];
    expect(p.headers).toEqual([
      { name: 'Authorization', value: 'Bearer x', secret: true },
      { name: 'CF-Access-Client-Id', value: 'abc', secret: false },
    ]);
  });

  it('builds a profile from --url, --listen, --ca, --insecure, --compat and --advertise', () => {
    const p = buildProfiles(parseArgs(['--url', 'wss://k.example/kafka?x=1', '--listen', '0.0.0.0', '--ca', '/tmp/ca.pem', '--insecure', '--compat', 'legacy', '--advertise', 'tunnel.local:9092']))[0];
    expect(p).toMatchObject({ broker: 'wss://k.example/kafka?x=1', listenHost: '0.0.0.0', caFile: '/tmp/ca.pem', tlsVerify: false, compatibility: 'legacy', advertise: 'tunnel.local:9092' });
  });

  it('runs the demo on 9092 unless -port says otherwise', () => {
    expect(buildProfiles(parseArgs(['--demo']))[0]).toMatchObject({ demoBroker: true, listenPort: 9092 });
    expect(buildProfiles(parseArgs(['--demo', '-port', '19092']))[0].listenPort).toBe(19092);
  });

  it.each([
    [['-port', 'abc'], /-port must be a number/],
    [['-port', '70000'], /-port must be a number/],
    [['-broker', 'nocolon'], /-broker must be host:port/],
    [['--bogus'], /Unknown flag -bogus/],
    [['-port'], /needs a value/],
    [['-tls=maybe'], /takes true or false/],
    [['--compat', 'magic'], /--compat must be one of auto, legacy, passthrough/],
    [['--header', 'no colon here'], /"Name: value"/],
    [['stray'], /Unexpected argument/],
  ])('rejects %j with a sentence', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('rejects a header the handshake owns', () => {
    expect(() => buildProfiles(parseArgs(['--header', 'Host: evil']))).toThrow(/set by the WebSocket handshake/);
  });
});
