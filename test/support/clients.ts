import { spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * Test support for real Kafka clients: run kcat and kafka-python (Debian
 * packages) as child processes with a hard timeout, and find or wait for ports.
 */

export const KCAT = '/usr/bin/kcat';
/** Debian's python3 with python3-kafka; not whatever python a venv puts first on PATH. */
export const PYTHON = '/usr/bin/python3';
export const KAFKA_PYTHON_SCRIPT = fileURLToPath(new URL('../e2e/kafka_python_client.py', import.meta.url));

/**
 * librdkafka settings for a Kafka 0.8 broker: do not send ApiVersions (0.8
 * brokers, like kafka-worker, never answer it) and assume 0.8 protocol versions.
 */
export const KCAT_KAFKA_08 = ['-X', 'api.version.request=false', '-X', 'broker.version.fallback=0.8.0'];

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Killed (SIGKILL) after this long; the result says timedOut. Default 20 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs a program to completion; never rejects for a non-zero exit, so callers assert and print. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 20_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    // A client that exits before reading all of stdin must not fail the run with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** A one-line account of a run for assertion messages: exit status and stderr. */
export function describeRun(command: string, result: RunResult): string {
  const status = result.timedOut ? 'timed out' : result.signal ? `killed by ${result.signal}` : `exited ${result.code}`;
  return `${command} ${status}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/** Whether kcat is installed (the e2e suite needs it; absence is reported, not skipped). */
export function hasKcat(): boolean {
  return spawnSync(KCAT, ['-V'], { stdio: 'ignore' }).status === 0;
}

export function hasKafkaPython(): boolean {
  return spawnSync(PYTHON, ['-c', 'import kafka'], { stdio: 'ignore' }).status === 0;
}

/**
 * A port that was free a moment ago on `host`: the OS picks it for a throwaway
 * listener, which is closed before returning. Only for the chicken-and-egg case
 * where two servers must know each other's port before either starts.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on host:port; rejects after timeoutMs. */
export async function waitForPort(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`Nothing accepted connections on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
