import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TunnelManager } from '../proxy/manager.ts';
import { connectClient, testProfile } from '../test/support/sockets.ts';
import { settleWithin, startEach } from './lifecycle.ts';

describe('startEach', () => {
  it('starts every auto-start tunnel even when one fails, and reports the failure', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const taken = (blocker.address() as { port: number }).port;
    const manager = new TunnelManager();
    const profiles = new Map([
      ['a', testProfile({ id: 'a' })],
      ['busy', testProfile({ id: 'busy', listenPort: taken })],
      ['c', testProfile({ id: 'c' })],
    ]);
    try {
      const failures = await startEach([...profiles.keys()], (id) => manager.start(profiles.get(id)!));
      expect(failures).toEqual([{ id: 'busy', error: expect.objectContaining({ code: 'PORT_IN_USE' }) }]);
      expect(manager.isRunning('a')).toBe(true);
      expect(manager.isRunning('c')).toBe(true);
    } finally {
      await manager.stopAll();
      blocker.close();
    }
  });
});

describe('settleWithin', () => {
  it('resolves true when the work finishes, or fails, in time', async () => {
    expect(await settleWithin(Promise.resolve(), 1000)).toBe(true);
    expect(await settleWithin(Promise.reject(new Error('x')), 1000)).toBe(true);
  });

  it('gives up on work that never finishes', async () => {
    expect(await settleWithin(new Promise(() => undefined), 20)).toBe(false);
  });

  it('lets a graceful stop of real tunnels with open clients finish', async () => {
    const manager = new TunnelManager();
    const snap = await manager.start(testProfile({ id: 'q' }));
    const client = await connectClient(snap.listen!.port);
    const closed = once(client, 'close');
    expect(await settleWithin(manager.stopAll(), 5000)).toBe(true);
    await closed;
    expect(manager.isRunning('q')).toBe(false);
  });
});
