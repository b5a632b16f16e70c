import { describe, expect, it } from 'vitest';
import { readCpuMicros, readMachineProcessMicros, startCpuWatch } from './cpu-time.ts';
import { RssSampler, readRssBytes } from './rss.ts';

// A pid above Linux's pid_max ceiling (2^22) cannot exist.
const NO_SUCH_PID = 5_000_000;

describe.runIf(process.platform === 'linux')('/proc readers', () => {
  it('reads this process RSS and nothing for a process that does not exist', () => {
    expect(readRssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
    expect(readRssBytes(NO_SUCH_PID)).toBeNull();
  });

  it('sees RSS grow when memory is touched, as a peak', () => {
    const sampler = new RssSampler(process.pid, { intervalMs: 10 });
    const mark = sampler.mark();
    const before = sampler.medianSince(mark);
    const block = Buffer.alloc(64 * 1024 * 1024, 1);
    expect(sampler.peakSince(mark)).toBeGreaterThan(before + 32 * 1024 * 1024);
    sampler.stop();
    expect(block[0]).toBe(1);
  });

  it('counts the whole machine at least as busy as this process', () => {
    const machine = readMachineProcessMicros()!;
    const self = readCpuMicros(process.pid)!;
    expect(machine).toBeGreaterThanOrEqual(self);
  });

  it('counts CPU time spent, in % of a core', () => {
    const watch = startCpuWatch([{ label: 'self', pid: process.pid }, { label: 'gone', pid: NO_SUCH_PID }]);
    const before = readCpuMicros(process.pid)!;
    // Burn CPU until the kernel's 10 ms tick has certainly counted some.
    let x = 0;
    while (readCpuMicros(process.pid)! < before + 50_000) x += Math.sqrt(x + 1);
    const cpu = watch();
    expect(cpu.self).toBeGreaterThan(0);
    expect(cpu.gone).toBeNull();
    expect(cpu.others).toBeGreaterThanOrEqual(0);
  });
});
