import { describe, expect, it } from 'vitest';
import { profileSchema } from '../../../shared/profile.ts';
import { stoppedSnapshot } from '../../../shared/stats.ts';
import { expectedBootstrap } from './TunnelDetail.tsx';

const profile = (extra: Record<string, unknown>) => profileSchema.parse({ id: 'p', name: 'P', broker: 'b.example:443', ...extra });

describe('expectedBootstrap', () => {
  it('uses the running tunnel’s own address first', () => {
    expect(expectedBootstrap(profile({ listenPort: 0 }), { ...stoppedSnapshot('p'), state: 'running', bootstrap: 'localhost:41234' })).toBe('localhost:41234');
  });

  it('names localhost and the fixed port of a stopped loopback tunnel, or its advertised address', () => {
    expect(expectedBootstrap(profile({ listenPort: 9092 }), stoppedSnapshot('p'))).toBe('localhost:9092');
    expect(expectedBootstrap(profile({ listenPort: 9092, advertise: 'tunnel.lan:9092' }), stoppedSnapshot('p'))).toBe('tunnel.lan:9092');
  });

  it('has no address for a stopped tunnel whose port is chosen at start', () => {
    expect(expectedBootstrap(profile({ listenPort: 0 }), stoppedSnapshot('p'))).toBeNull();
  });
});
