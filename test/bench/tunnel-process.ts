import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompatibilityMode } from '../../shared/profile.ts';
import { RssSampler } from './rss.ts';

/**
 * The tunnel under test: the real CLI in its own process, started the way a
 * person starts it, so its CPU and memory are its own and /proc tells us its RSS.
 */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/kafka-websocket-proxy.js', import.meta.url));
export const PROFILE_DIR = join(ROOT, 'test', 'artifacts', 'prof');
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;
/** Enough of stderr to explain a failure; a chatty process cannot grow it further. */
const STDERR_KEEP = 8 * 1024;

export interface TunnelProcessOptions {
  /** The responder's WebSocket port. */
  brokerPort: number;
  /** A label for errors and the profile file name. */
  name: string;
  compat?: CompatibilityMode;
  session?: 'on' | 'off';
  /** Write a .cpuprofile into PROFILE_DIR when the process exits. */
  cpuProfile?: boolean;
  /** The CLI entry point to run; default bin/kafka-websocket-proxy.js. */
  cli?: string;
}

/** A CPU profile and the part of it that is the tunnel at work (from listening to the stop signal). */
export interface ProfileFile {
  path: string;
  fromMicros: number;
  toMicros: number;
}

export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export class TunnelProcess {
  readonly name: string;
  readonly port: number;
  /** When it began listening, in monotonicMicros(). */
  readonly readyAt = monotonicMicros();
  readonly rss: RssSampler;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  readonly #profilePath: string | null;
  readonly #stderr: () => string;

  private constructor(child: ChildProcess, init: { name: string; port: number; exited: Promise<number | null>; profilePath: string | null; stderr: () => string }) {
    this.#child = child;
    this.name = init.name;
    this.port = init.port;
    this.#exited = init.exited;
    this.#profilePath = init.profilePath;
    this.#stderr = init.stderr;
    this.rss = new RssSampler(child.pid!);
  }

  static async start(options: TunnelProcessOptions): Promise<TunnelProcess> {
    const nodeArgs: string[] = [];
    let profilePath: string | null = null;
    if (options.cpuProfile) {
      mkdirSync(PROFILE_DIR, { recursive: true });
      const file = `${options.name}-${Date.now()}.cpuprofile`;
      profilePath = join(PROFILE_DIR, file);
      nodeArgs.push('--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', file);
    }
    // --quiet: a connection-per-line log for 500 connections would measure the logger.
    const args = [options.cli ? resolve(options.cli) : CLI, '-port', '0', '-broker', `127.0.0.1:${options.brokerPort}`, '--quiet'];
    if (options.compat) args.push('--compat', options.compat);
    const env = { ...process.env };
    if (options.session === 'off') args.push('--kafka-aware=false');
    const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });

    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-STDERR_KEEP)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`The tunnel (${options.name}) did not print its address within 20 s:\n${stderr}`)), START_TIMEOUT_MS);
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString('utf8');
        const m = /Kafka bootstrap address: localhost:(\d+)/.exec(stdout);
        if (!m) return;
        clearTimeout(timer);
        resolve(Number(m[1]));
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`The tunnel (${options.name}) exited with code ${code} before it listened:\n${stderr}`));
      });
    }).catch((err) => {
      child.kill('SIGKILL');
      throw err;
    });
    // Keep reading stdout so a full pipe can never block the tunnel.
    child.stdout!.resume();
    return new TunnelProcess(child, { name: options.name, port, exited, profilePath, stderr: () => stderr });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** What the tunnel logged (its errors and warnings, with --quiet). */
  stderr(): string {
    return this.#stderr();
  }

  /**
   * Stops it as a person would (SIGTERM), so it can write its CPU profile on the
   * way out; a process that does not exit in 15 s is killed and writes none.
   * Returns the profile when there is one.
   */
  async stop(): Promise<ProfileFile | null> {
    this.rss.stop();
    const stoppedAt = monotonicMicros();
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    if (!this.#profilePath || !existsSync(this.#profilePath)) return null;
    return { path: this.#profilePath, fromMicros: this.readyAt, toMicros: stoppedAt };
  }
}
