import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where a tunnel process spent its CPU, from the .cpuprofile V8 writes with
 * `node --cpu-prof`: self time per function (time in the function itself, not
 * in what it calls) and per source file, as shares of the busy time. Idle time
 * is left out of the shares: a tunnel waiting for the network costs nothing.
 */

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  /** "name (file:line)" or a V8 category such as "(garbage collector)". */
  label: string;
  file: string;
  micros: number;
  /** Share of busy (non-idle) time, 0..1. */
  share: number;
}

export interface ProfileSummary {
  busyMicros: number;
  idleMicros: number;
  functions: SelfTime[];
  files: SelfTime[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function readCpuProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

/** Project files relative to the repository, packages as node_modules/..., Node's own as node:... */
export function shortFile(url: string): string {
  if (url === '') return '';
  if (url.startsWith('file://')) {
    const path = fileURLToPath(url);
    const rel = relative(ROOT, path);
    return rel.startsWith('..') ? path : rel;
  }
  return url;
}

/**
 * Times are microseconds of the monotonic clock that both V8's profile and
 * process.hrtime use, so a window measured in the bench process applies here.
 */
export interface ProfileWindow {
  fromMicros?: number;
  toMicros?: number;
}

/**
 * Self time per function and file. With a window, only samples inside it count
 * (the tunnel's start-up, mostly module loading, is not the byte path).
 */
export function summarizeProfile(profile: CpuProfile, window: ProfileWindow = {}): ProfileSummary {
  const selfByNode = new Map<number, number>();
  if (profile.samples && profile.timeDeltas && profile.samples.length === profile.timeDeltas.length) {
    const from = window.fromMicros ?? -Infinity;
    const to = window.toMicros ?? Infinity;
    let time = profile.startTime;
    // timeDeltas[i] is the time before sample i; it is charged to the sample that ends it.
    for (let i = 0; i < profile.samples.length; i++) {
      time += profile.timeDeltas[i];
      if (time < from || time > to) continue;
      selfByNode.set(profile.samples[i], (selfByNode.get(profile.samples[i]) ?? 0) + Math.max(0, profile.timeDeltas[i]));
    }
  } else {
    const total = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
    const perHit = total > 0 ? (profile.endTime - profile.startTime) / total : 0;
    for (const n of profile.nodes) selfByNode.set(n.id, (n.hitCount ?? 0) * perHit);
  }

  const byFunction = new Map<string, { file: string; micros: number }>();
  const byFile = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const node of profile.nodes) {
    const micros = selfByNode.get(node.id) ?? 0;
    if (micros === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += micros;
      continue;
    }
    busy += micros;
    const file = shortFile(url);
    const name = functionName || '(anonymous)';
    const label = file ? `${name} (${file}:${lineNumber + 1})` : name;
    const entry = byFunction.get(label) ?? { file, micros: 0 };
    entry.micros += micros;
    byFunction.set(label, entry);
    const fileKey = file || name;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + micros);
  }
  const share = (m: number) => (busy > 0 ? m / busy : 0);
  const functions = [...byFunction].map(([label, e]) => ({ label, file: e.file, micros: e.micros, share: share(e.micros) }));
  const files = [...byFile].map(([file, micros]) => ({ label: file, file, micros, share: share(micros) }));
  functions.sort((a, b) => b.micros - a.micros);
  files.sort((a, b) => b.micros - a.micros);
  return { busyMicros: busy, idleMicros: idle, functions, files };
}

export function formatProfileSummary(title: string, summary: ProfileSummary, top = 15): string {
  const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`;
  const pct = (s: number) => `${(s * 100).toFixed(1).padStart(5)}%`;
  const lines = [`${title}: ${ms(summary.busyMicros)} busy, ${ms(summary.idleMicros)} idle`, '  top self time by function:'];
  for (const f of summary.functions.slice(0, top)) lines.push(`    ${pct(f.share)}  ${f.label}`);
  lines.push('  self time by file:');
  for (const f of summary.files.slice(0, 10)) lines.push(`    ${pct(f.share)}  ${f.label}`);
  return lines.join('\n');
}
