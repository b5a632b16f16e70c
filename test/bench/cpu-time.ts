import { readFileSync } from 'node:fs';

/**
 * CPU time of a process (all its threads, user + system), from /proc/<pid>/stat
 * on Linux. Set beside a measurement's wall time it says whether a process was
 * the bottleneck: near 100% of one core means the event loop had no idle time.
 */

/** Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel build. */
const TICKS_PER_SECOND = 100;

export function readCpuMicros(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name sits in parentheses and may itself contain spaces or parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, i.e. 12 and 13 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? (ticks * 1e6) / TICKS_PER_SECOND : null;
}

export interface WatchedProcess {
  label: string;
  pid: number;
}

/** Starts counting; the returned function gives each process's CPU use since then, in % of one core. */
export function startCpuWatch(processes: readonly WatchedProcess[]): () => Record<string, number | null> {
  const started = process.hrtime.bigint();
  const before = processes.map((p) => readCpuMicros(p.pid));
  return () => {
    const wallMicros = Number((process.hrtime.bigint() - started) / 1000n);
    const result: Record<string, number | null> = {};
    processes.forEach((p, i) => {
      const now = readCpuMicros(p.pid);
      const then = before[i];
      result[p.label] = now === null || then === null || wallMicros <= 0 ? null : Math.round(((now - then) / wallMicros) * 100);
    });
    return result;
  };
}
