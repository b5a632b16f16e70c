import type { Socket } from 'node:net';
import { produceRequest } from './frames.ts';
import { FloodLoad, connectTo, delay, runLoad } from './load.ts';
import type { Responder } from './responder.ts';
import type { LoadShape } from './throughput.ts';
import { TunnelProcess, type ProfileFile } from './tunnel-process.ts';

/**
 * The tunnel's resident memory: idle; holding many idle connections (each with
 * its WebSocket); and while the broker stops reading during produce-1m, which is
 * where a proxy without backpressure grows without limit. Two stalls:
 *
 * - closed loop (the produce-1m load as it is, 2 requests in flight per
 *   connection): the peak must stay within the bytes the client can have in
 *   flight, with room for one copy of each, and memory must not grow afterwards;
 * - flood (no cap on requests in flight, the client writes as fast as TCP takes
 *   it): only the tunnel's backpressure stands between the client and its heap,
 *   so the second half of the stall must not peak higher than the first.
 *
 * Each part starts a fresh tunnel process, so one part's garbage is not the next
 * part's baseline.
 */

const MB = 1e6;
/** Time for a fresh process to finish starting (module loading, first GC) before it counts as idle. */
const SETTLE_MS = 1000;
const SAMPLE_MS = 1000;
const CONNECT_BATCH = 50;
const LOAD_BEFORE_STALL_MS = 3000;
const LOAD_AFTER_STALL_MS = 3000;

export interface MemoryOptions {
  responder: Responder;
  shape: LoadShape;
  idleConnections: number;
  stallMs: number;
  cpuProfile: boolean;
  cli?: string;
  log: (line: string) => void;
  /** Hears about each tunnel process's CPU profile, when there is one. */
  onProfile: (title: string, profile: ProfileFile) => void;
}

export interface MemoryResult {
  idleMB: number;
  idleConnections: number;
  withConnectionsMB: number;
  /** Closed-loop stall. */
  stall: {
    idleMB: number;
    /** Median under load before the stall, and its peak. */
    loadMB: number;
    loadPeakMB: number;
    peakMB: number;
    boundMB: number;
    /** Median under load after the stall ended. */
    afterMB: number;
    growthMB: number;
    growthLimitMB: number;
  };
  flood: {
    /** Request bytes the tunnel took in the second before the stall: proof the flood was flowing. */
    acceptedBeforeStallMB: number;
    firstHalfPeakMB: number;
    secondHalfPeakMB: number;
    /** Request bytes the tunnel took from the client while the broker read nothing. */
    acceptedDuringStallMB: number;
    /** Median once the flood had drained. */
    afterMB: number;
  };
}

export async function runMemory(options: MemoryOptions): Promise<MemoryResult> {
  const { responder, shape, log } = options;
  await responder.configure(shape.responseBytes);

  // ---- idle, then idle connections ----
  const first = await TunnelProcess.start({ brokerPort: responder.wsPort, name: 'memory-idle', cpuProfile: options.cpuProfile, cli: options.cli });
  let idleMB: number;
  let withConnectionsMB: number;
  try {
    await delay(SETTLE_MS);
    idleMB = (await steady(first)) / MB;
    log(`  idle tunnel: ${idleMB.toFixed(1)} MB`);
    const before = (await responder.status()).websocket;
    const sockets = await openIdle(first.port, options.idleConnections);
    try {
      const all = await responder.waitForWebSockets((n) => n >= before + options.idleConnections, 30_000);
      if (!all) throw new Error(`The tunnel did not open ${options.idleConnections} WebSockets within 30 s`);
      await delay(SETTLE_MS / 2);
      withConnectionsMB = (await steady(first)) / MB;
      log(`  ${options.idleConnections} idle connections: ${withConnectionsMB.toFixed(1)} MB`);
    } finally {
      for (const s of sockets) s.destroy();
    }
  } finally {
    await stopAndReport(first, 'memory: idle and idle connections', options);
  }

  // ---- the broker stops reading ----
  const second = await TunnelProcess.start({ brokerPort: responder.wsPort, name: 'memory-stall', cpuProfile: options.cpuProfile, cli: options.cli });
  try {
    await delay(SETTLE_MS);
    const stallIdleMB = (await steady(second)) / MB;
    const request = produceRequest(shape.requestBytes);
    const rss = second.rss;

    let loadMark = 0;
    let stallMark = 0;
    let afterStallMark = 0;
    let loadPeakMB = 0;
    let loadMB = 0;
    let peakMB = 0;
    const script = (async () => {
      loadMark = rss.mark();
      await delay(LOAD_BEFORE_STALL_MS);
      loadPeakMB = rss.peakSince(loadMark) / MB;
      loadMB = rss.medianSince(loadMark) / MB;
      await responder.stall();
      stallMark = rss.mark();
      await delay(options.stallMs);
      peakMB = rss.peakSince(stallMark) / MB;
      await responder.resume();
      await delay(LOAD_AFTER_STALL_MS - SAMPLE_MS);
      afterStallMark = rss.mark();
    })();
    await runLoad({
      port: second.port,
      connections: shape.connections,
      inFlight: shape.inFlight,
      request,
      responseBytes: shape.responseBytes,
      warmupMs: 0,
      durationMs: LOAD_BEFORE_STALL_MS + options.stallMs + LOAD_AFTER_STALL_MS,
    });
    await script;
    const afterMB = rss.medianSince(afterStallMark) / MB;
    const inFlightMB = (shape.connections * shape.inFlight * request.frame.length) / MB;
    const stall = {
      idleMB: stallIdleMB,
      loadMB,
      loadPeakMB,
      peakMB,
      boundMB: stallIdleMB + 2 * inFlightMB,
      afterMB,
      growthMB: afterMB - loadMB,
      growthLimitMB: (shape.connections * request.frame.length) / MB,
    };
    log(`  closed-loop stall: idle ${stallIdleMB.toFixed(1)}, load ${loadMB.toFixed(1)} (peak ${loadPeakMB.toFixed(1)}), stall peak ${peakMB.toFixed(1)}, after ${afterMB.toFixed(1)} MB`);

    // ---- flood: nothing but backpressure holds the client back ----
    const flood = await FloodLoad.start({ port: second.port, connections: shape.connections, request });
    await delay(SAMPLE_MS);
    await responder.stall();
    const acceptedAtStall = flood.acceptedBytes;
    const acceptedBeforeStallMB = acceptedAtStall / MB;
    const firstHalf = rss.mark();
    await delay(options.stallMs / 2);
    const secondHalf = rss.mark();
    const firstHalfPeakMB = rss.peakSince(firstHalf) / MB;
    await delay(options.stallMs / 2);
    const secondHalfPeakMB = rss.peakSince(secondHalf) / MB;
    const acceptedDuringStallMB = (flood.acceptedBytes - acceptedAtStall) / MB;
    await responder.resume();
    await flood.stop();
    await delay(SETTLE_MS);
    const floodAfterMB = (await steady(second)) / MB;
    log(
      `  flood: ${acceptedBeforeStallMB.toFixed(0)} MB in the second before the stall; peak ${firstHalfPeakMB.toFixed(1)} MB in the first half, ${secondHalfPeakMB.toFixed(1)} MB in the second; ` +
        `${acceptedDuringStallMB.toFixed(1)} MB accepted while stalled; ${floodAfterMB.toFixed(1)} MB after`,
    );
    return {
      idleMB,
      idleConnections: options.idleConnections,
      withConnectionsMB,
      stall,
      flood: { acceptedBeforeStallMB, firstHalfPeakMB, secondHalfPeakMB, acceptedDuringStallMB, afterMB: floodAfterMB },
    };
  } finally {
    await responder.resume();
    await stopAndReport(second, 'memory: broker stall', options);
  }
}

/** The median RSS over one sampling period. */
async function steady(tunnel: TunnelProcess): Promise<number> {
  const mark = tunnel.rss.mark();
  await delay(SAMPLE_MS);
  return tunnel.rss.medianSince(mark);
}

async function openIdle(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  try {
    // In batches: a burst of hundreds of SYNs at once can overflow the listen backlog.
    for (let i = 0; i < count; i += CONNECT_BATCH) {
      const batch = await Promise.all(Array.from({ length: Math.min(CONNECT_BATCH, count - i) }, () => connectTo(port)));
      sockets.push(...batch);
    }
  } catch (err) {
    for (const s of sockets) s.destroy();
    throw err;
  }
  for (const s of sockets) s.on('error', () => {});
  return sockets;
}

async function stopAndReport(tunnel: TunnelProcess, title: string, options: MemoryOptions): Promise<void> {
  const profile = await tunnel.stop();
  if (profile) options.onProfile(title, profile);
}
