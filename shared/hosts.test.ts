import { describe, expect, it } from 'vitest';
import { bootstrapAddress, isLoopbackHost, isWildcardHost, reachableHost } from './profile.ts';

describe('listen address helpers', () => {
  it('knows loopback and wildcard addresses', () => {
    expect(['127.0.0.1', '127.0.0.2', '::1', 'localhost'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['10.0.0.1', '0.0.0.0', 'kafka.lan', '128.0.0.1'].map(isLoopbackHost)).toEqual([false, false, false, false]);
    expect(['0.0.0.0', '::', ''].map(isWildcardHost)).toEqual([true, true, true]);
    expect(isWildcardHost('127.0.0.1')).toBe(false);
  });

  it('reaches a wildcard bind over loopback of the same family', () => {
    expect(reachableHost('0.0.0.0')).toBe('127.0.0.1');
    expect(reachableHost('::')).toBe('::1');
    expect(reachableHost('192.168.1.5')).toBe('192.168.1.5');
  });

  it('offers localhost as the bootstrap for listeners on this computer', () => {
    expect(bootstrapAddress({ host: '127.0.0.1', port: 9092 })).toBe('localhost:9092');
    expect(bootstrapAddress({ host: '0.0.0.0', port: 9092 })).toBe('localhost:9092');
    expect(bootstrapAddress({ host: 'fd00::5', port: 9092 })).toBe('[fd00::5]:9092');
    expect(bootstrapAddress({ host: 'kafka.lan', port: 19092 })).toBe('kafka.lan:19092');
  });
});
