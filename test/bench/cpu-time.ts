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

/**
 * CPU time the whole machine spent running processes (user, nice and system
 * time over all cores; interrupt time left out, since loopback networking is
 * charged there and it is our own traffic).
 */
export function readMachineProcessMicros(): number | null {
  let stat: string;
  try {
    stat = readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const fields = stat.slice(0, stat.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  const ticks = fields[0] + fields[1] + fields[2];
  return Number.isFinite(ticks) ? (ticks * 1e6) / TICKS_PER_SECOND : null;
}

/** The label under which startCpuWatch reports what processes other than the watched ones used. */
export const OTHERS = 'others';

export interface WatchedProcess {
  label: string;
  pid: number;
}

/**
 * Starts counting; the returned function gives each process's CPU use since
 * then, in % of one core, and under OTHERS what every other process on the
 * machine used: a busy neighbour makes a ratio pessimistic, and this says so.
 */
export function startCpuWatch(processes: readonly WatchedProcess[]): () => Record<string, number | null> {
  const started = process.hrtime.bigint();
  const before = processes.map((p) => readCpuMicros(p.pid));
  const machineBefore = readMachineProcessMicros();
  return () => {
    const wallMicros = Number((process.hrtime.bigint() - started) / 1000n);
    const machineNow = readMachineProcessMicros();
    const result: Record<string, number | null> = {};
    let ours = 0;
    processes.forEach((p, i) => {
      const now = readCpuMicros(p.pid);
      const then = before[i];
      const used = now === null || then === null ? null : now - then;
      if (used !== null) ours += used;
      result[p.label] = used === null || wallMicros <= 0 ? null : Math.round((used / wallMicros) * 100);
    });
    if (processes.length > 0) {
      const machine = machineNow === null || machineBefore === null ? null : machineNow - machineBefore;
      result[OTHERS] = machine === null || wallMicros <= 0 ? null : Math.max(0, Math.round(((machine - ours) / wallMicros) * 100));
    }
    return result;
  };
}
