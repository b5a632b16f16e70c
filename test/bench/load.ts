import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { startCpuWatch, type WatchedProcess } from './cpu-time.ts';
import { FramePool, FrameScanner, RESPONSE_CORRELATION_OFFSET, type FrameTemplate } from './frames.ts';
import { LatencyHistogram } from './stats.ts';

/**
 * The load generator: Kafka request frames over plain TCP, the way a client
 * talks to the tunnel (or, for the baseline, straight to the responder).
 *
 * Closed loop: each connection keeps `inFlight` requests outstanding and sends
 * the next one as each answer arrives, so throughput and latency are those of
 * the path, not of an arbitrary send rate. Only answers that arrive inside the
 * measuring window count; the warm-up before it lets connections open (the
 * tunnel dials its WebSocket on the first one) and the JIT settle.
 */

const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
/** How long outstanding answers may take after the window closes. */
const DRAIN_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;

export interface LoadOptions {
  port: number;
  connections: number;
  inFlight: number;
  request: FrameTemplate;
  /** Size every answer must have; anything else means the path corrupted a frame. */
  responseBytes: number;
  warmupMs: number;
  durationMs: number;
  /** Processes whose CPU use over the measuring window is reported. */
  watch?: readonly WatchedProcess[];
}

export interface LoadResult {
  /** Request/response round trips completed inside the window. */
  frames: number;
  /** Request plus response bytes of those round trips. */
  bytes: number;
  seconds: number;
  framesPerSec: number;
  /** 10^6 bytes per second, both directions together. */
  mbps: number;
  p50us: number;
  p99us: number;
  /** % of one core each watched process used during the window. */
  cpu: Record<string, number | null>;
}

export function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    const timer = setTimeout(() => socket.destroy(new Error(`Connecting to 127.0.0.1:${port} took over 10 s`)), CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const pool = new FramePool(options.request);
  const requestBytes = pool.frameBytes;
  const histogram = new LatencyHistogram();
  const sockets = await Promise.all(Array.from({ length: options.connections }, () => connectTo(options.port)));
  let measuring = false;
  let running = true;
  let frames = 0;
  let bytes = 0;
  let windowStart = 0;
  let windowEnd = 0;
  let cpu: Record<string, number | null> = {};

  const drained = sockets.map(
    (socket, index) =>
      new Promise<void>((resolve, reject) => {
        const sentAt = new Map<number, number>();
        const scanner = new FrameScanner({ maxFrameBytes: MAX_RESPONSE_BYTES });
        let nextCorrelationId = 1;
        let settled = false;
        const fail = (message: string) => {
          if (settled) return;
          settled = true;
          socket.destroy();
          reject(new Error(`Connection ${index + 1}: ${message}`));
        };
        const send = () => {
          const correlationId = nextCorrelationId;
          nextCorrelationId = nextCorrelationId === 0x7fffffff ? 1 : nextCorrelationId + 1;
          const frame = pool.take(correlationId);
          sentAt.set(correlationId, performance.now());
          socket.write(frame, () => pool.release(frame));
        };
        socket.on('data', (chunk: Buffer) => {
          try {
            scanner.push(chunk, (head, size) => {
              const now = performance.now();
              const correlationId = head.readInt32BE(RESPONSE_CORRELATION_OFFSET);
              const at = sentAt.get(correlationId);
              if (at === undefined) throw new Error(`an answer carried correlation id ${correlationId}, which no outstanding request has`);
              if (size !== options.responseBytes) throw new Error(`an answer was ${size} bytes; ${options.responseBytes} were sent`);
              sentAt.delete(correlationId);
              if (measuring) {
                frames++;
                bytes += requestBytes + size;
                histogram.record((now - at) * 1000);
              }
              if (running) send();
            });
          } catch (err) {
            fail((err as Error).message);
            return;
          }
          if (!running && sentAt.size === 0 && !settled) {
            settled = true;
            resolve();
          }
        });
        socket.on('error', (err) => fail(`failed: ${err.message}`));
        socket.on('close', () => fail(`closed with ${sentAt.size} answers outstanding`));
        for (let i = 0; i < options.inFlight; i++) send();
      }),
  );

  const failure = Promise.race(drained).then(() => undefined);
  const clock = (async () => {
    await delay(options.warmupMs);
    const cpuSince = startCpuWatch(options.watch ?? []);
    windowStart = performance.now();
    measuring = true;
    await delay(options.durationMs);
    measuring = false;
    running = false;
    windowEnd = performance.now();
    cpu = cpuSince();
  })();
  try {
    // A connection that fails during the window ends the run at once.
    await Promise.race([clock, failure.then(() => clock)]);
    await withTimeout(Promise.all(drained), DRAIN_TIMEOUT_MS, 'Answers were still missing 30 s after the measuring window closed');
  } finally {
    for (const s of sockets) s.destroy();
  }
  const seconds = (windowEnd - windowStart) / 1000;
  return {
    frames,
    bytes,
    seconds,
    framesPerSec: frames / seconds,
    mbps: bytes / seconds / 1e6,
    p50us: histogram.percentile(50),
    p99us: histogram.percentile(99),
    cpu,
  };
}

/**
 * Open loop, for the memory stall: each connection writes requests as fast as
 * TCP takes them, with no cap on outstanding ones, so only the tunnel's own
 * backpressure can keep its memory bounded while the broker does not read.
 */
export class FloodLoad {
  readonly #sockets: Socket[];
  readonly #pool: FramePool;
  readonly #outstanding: number[];
  #running = true;
  #acceptedBytes = 0;
  #answers = 0;
  #failure: Error | null = null;

  private constructor(sockets: Socket[], request: FrameTemplate) {
    this.#sockets = sockets;
    this.#pool = new FramePool(request);
    this.#outstanding = sockets.map(() => 0);
    sockets.forEach((socket, i) => this.#drive(socket, i));
  }

  static async start(options: { port: number; connections: number; request: FrameTemplate }): Promise<FloodLoad> {
    const sockets = await Promise.all(Array.from({ length: options.connections }, () => connectTo(options.port)));
    return new FloodLoad(sockets, options.request);
  }

  /** Request bytes the sockets have handed to the kernel so far. */
  get acceptedBytes(): number {
    return this.#acceptedBytes;
  }

  get answers(): number {
    return this.#answers;
  }

  /** Stops writing, waits (bounded) for every answer, closes the connections. */
  async stop(timeoutMs = DRAIN_TIMEOUT_MS): Promise<void> {
    this.#running = false;
    const deadline = Date.now() + timeoutMs;
    try {
      while (this.#outstanding.some((n) => n > 0)) {
        if (this.#failure) throw this.#failure;
        if (Date.now() > deadline) throw new Error(`${this.#outstanding.reduce((a, b) => a + b, 0)} answers were still missing ${timeoutMs / 1000} s after the flood stopped`);
        await delay(50);
      }
      if (this.#failure) throw this.#failure;
    } finally {
      for (const s of this.#sockets) s.destroy();
    }
  }

  #drive(socket: Socket, index: number): void {
    const scanner = new FrameScanner({ maxFrameBytes: MAX_RESPONSE_BYTES });
    let nextCorrelationId = 1;
    const write = () => {
      while (this.#running) {
        const frame = this.#pool.take(nextCorrelationId++);
        this.#outstanding[index]++;
        const ok = socket.write(frame, () => {
          this.#acceptedBytes += frame.length;
          this.#pool.release(frame);
        });
        if (!ok) {
          socket.once('drain', write);
          return;
        }
      }
    };
    socket.on('data', (chunk: Buffer) =>
      scanner.push(chunk, () => {
        this.#outstanding[index]--;
        this.#answers++;
      }),
    );
    socket.on('error', (err) => (this.#failure ??= new Error(`Flood connection ${index + 1} failed: ${err.message}`)));
    socket.on('close', () => {
      if (this.#outstanding[index] > 0) this.#failure ??= new Error(`Flood connection ${index + 1} closed with ${this.#outstanding[index]} answers outstanding`);
    });
    write();
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
