import fc from 'fast-check';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { createDuplexPair } from '../../proxy/duplex-pair.ts';
import { encodeHeader, FrameParser, Opcode, type FrameHeader, type FrameSink } from '../../proxy/ws/frame-parser.ts';
import { BrokerLink, type LinkOptions } from '../../proxy/ws/link.ts';
import { LinkEvents, type LinkEvent } from './link-peer.ts';
import { Random, payload, runSeed } from '../reliability/harness.ts';

/*
 * Test support for the BrokerLink fuzz tests (test/reliability/fuzz-link-*.test.ts):
 * raw server frames written in random chunks, the link on one end of an in-process
 * pair, a parser for what it writes back, and generators of valid broker traffic.
 */

export const KiB = 1024;
export const SEED = runSeed();
export type Choice = 'stream' | 'collect';

/** A frame as a broker sends it: unmasked. */
export function serverFrame(opcode: number, data: Buffer, options: { fin?: boolean } = {}): Buffer {
  return Buffer.concat([encodeHeader({ opcode, fin: options.fin, length: data.length, mask: null }), data]);
}

/** A close frame's payload: the code, then the reason in UTF-8. */
export function closePayload(code: number, reason: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);
}

/** Mostly large pieces, with enough tiny ones to cut headers and length fields apart. */
export function chunkSize(random: Random): number {
  const r = random.next();
  if (r < 0.2) return random.int(1, 16);
  if (r < 0.55) return random.int(17, 4 * KiB);
  return random.int(4 * KiB, 100 * KiB);
}

/**
 * Writes `bytes` in random pieces, sometimes letting the link read before the
 * next. A third of the cuts fall within 3 bytes of a frame's end (`frameEnds`,
 * ascending), where a last part, a header or a length field is split.
 */
export async function writeChunked(socket: Duplex, bytes: Buffer, random: Random, frameEnds: number[] = []): Promise<void> {
  let next = 0;
  for (let at = 0; at < bytes.length; ) {
    // The link may have answered an error by ending: the rest has nowhere to go.
    if (socket.writableEnded || socket.destroyed) return;
    while (next < frameEnds.length && frameEnds[next] <= at) next++;
    const awkward = next < frameEnds.length && random.chance(0.35) ? frameEnds[next] + random.int(-3, 3) : 0;
    const end = Math.min(awkward > at ? awkward : at + chunkSize(random), bytes.length);
    socket.write(bytes.subarray(at, end));
    at = end;
    if (random.chance(0.3)) await tick();
  }
}

/** Where each frame ends in the frames joined. */
export function endsOf(frames: Buffer[]): number[] {
  let at = 0;
  return frames.map((f) => (at += f.length));
}

/** Resolves with `promise`, or fails naming what never happened (a hang guard, not a speed limit). */
export async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within 10 s`)), 10_000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The recorder of link-peer.ts, choosing per message how a large one is delivered. */
export class ChoosingEvents extends LinkEvents {
  readonly #choose: (items: LinkEvent[]) => Choice;
  constructor(choose: (items: LinkEvent[]) => Choice) {
    super();
    this.#choose = choose;
  }
  override messageStart(head: Buffer, length: number): Choice {
    this.choice = this.#choose(this.items);
    return super.messageStart(head, length);
  }
}

export interface ClientFrame {
  opcode: number;
  fin: boolean;
  /** Unmasked. */
  payload: Buffer;
}

/**
 * What the link wrote, parsed as a server would: the parser refuses an unmasked
 * frame. Unmasked here byte by byte rather than with mask.ts, so a mistake
 * there cannot cancel itself out.
 */
export class ClientFrames {
  readonly frames: ClientFrame[] = [];
  error: unknown = null;
  readonly #parser = new FrameParser({ maxFrameBytes: 2 ** 31, expectMasked: true });
  #header: FrameHeader | null = null;
  #payload = Buffer.alloc(0);
  #at = 0;

  push(chunk: Buffer): void {
    if (this.error) return;
    try {
      this.#parser.push(chunk, this.#sink);
    } catch (err) {
      this.error = err;
    }
  }

  readonly #sink: FrameSink = {
    header: (header) => {
      this.#header = header;
      this.#payload = Buffer.alloc(header.length);
      this.#at = 0;
    },
    payload: (bytes) => {
      const key = this.#header!.mask!;
      for (let i = 0; i < bytes.length; i++, this.#at++) this.#payload[this.#at] = bytes[i] ^ key[this.#at & 3];
    },
    end: () => void this.frames.push({ opcode: this.#header!.opcode, fin: this.#header!.fin, payload: this.#payload }),
  };
}

/**
 * A link over one end of a duplex pair; the other end plays the broker. Every
 * listener the link puts on its socket is wrapped, so a throw out of the link's
 * event handling (which would be an uncaught exception in the tunnel) is caught
 * and recorded in `thrown` instead.
 */
export function openLink(options: LinkOptions, choose: (items: LinkEvent[]) => Choice) {
  const [near, server] = createDuplexPair();
  const thrown: unknown[] = [];
  const on = near.on.bind(near);
  near.on = ((event: string | symbol, listener: (...args: unknown[]) => void) =>
    on(event, (...args: unknown[]) => {
      try {
        listener(...args);
      } catch (err) {
        thrown.push(err);
      }
    })) as Duplex['on'];
  const link = new BrokerLink(near, options);
  const events = new ChoosingEvents(choose);
  const output = new ClientFrames();
  server.on('data', (chunk: Buffer) => output.push(chunk));
  // A broker answers the link's end with its own, which lets the pair close.
  server.on('end', () => void (server.writableEnded || server.end()));
  server.on('error', () => {});
  const serverEnded = once(server, 'end');
  link.attach(events);
  return { link, server, events, thrown, output, serverEnded };
}

export interface Delivered {
  /** 'message' (whole or streamed), 'pong', 'text', 'error', 'close', in arrival order. */
  tokens: string[];
  messages: { data: Buffer; streamed: boolean }[];
  /** Broken delivery rules: parts without a start, other callbacks inside a streamed message. */
  problems: string[];
  /** A streamed message still waiting for its last part. */
  streaming: boolean;
}

export function delivered(items: LinkEvent[]): Delivered {
  const out: Delivered = { tokens: [], messages: [], problems: [], streaming: false };
  let parts: Buffer[] | null = null;
  let previous: LinkEvent | undefined;
  for (const e of items) {
    if (e.type === 'messagePart') {
      if (!parts && previous?.type !== 'messageStart') out.problems.push('a messagePart with no messageStart before it');
      parts ??= [];
      parts.push(e.part);
      if (e.last) {
        out.messages.push({ data: Buffer.concat(parts), streamed: true });
        out.tokens.push('message');
        parts = null;
      }
    } else {
      if (parts && e.type !== 'error' && e.type !== 'close') out.problems.push(`${e.type} before the last part of a streamed message`);
      if (e.type === 'message') {
        out.messages.push({ data: e.data, streamed: false });
        out.tokens.push('message');
      } else if (e.type !== 'messageStart') out.tokens.push(e.type);
    }
    previous = e;
  }
  out.streaming = parts !== null;
  return out;
}

// ---- valid traffic ----

export interface Control {
  opcode: number;
  length: number;
}

export interface MessagePlan {
  size: number;
  /** Where to cut the message into fragments (modulo its size); null sends one frame. */
  cuts: number[] | null;
  /** Control frames sent between fragment i and i + 1. */
  between: Control[][];
  /** Control frames sent before the message. */
  before: Control[];
  /** The answer to messageStart, if the link asks. */
  choice: Choice;
}

export const control: fc.Arbitrary<Control> = fc.record({
  opcode: fc.constantFrom(Opcode.Ping, Opcode.Pong),
  length: fc.oneof(fc.constantFrom(0, 125), fc.integer({ min: 0, max: 125 })),
});
export const controls = fc.array(control, { maxLength: 2 });

export function messagePlan(size: fc.Arbitrary<number>): fc.Arbitrary<MessagePlan> {
  return fc.record({
    size,
    cuts: fc.option(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), { freq: 2 }),
    between: fc.array(controls, { maxLength: 6 }),
    before: controls,
    choice: fc.constantFrom<Choice>('stream', 'collect'),
  });
}

export interface TrafficFrame {
  bytes: Buffer;
  opcode: number;
  fin: boolean;
  payload: Buffer;
  /** A fragmented message is open when this frame starts. */
  inMessage: boolean;
}

export interface Traffic {
  frames: TrafficFrame[];
  messages: Buffer[];
  /** For each message, the index of the frame that completes it. */
  completedBy: number[];
  pings: Buffer[];
  /** Deliveries in the order they must happen: 'message' or 'pong'. */
  tokens: string[];
}

export function buildTraffic(plans: MessagePlan[], trailing: Control[], contentSeed: number): Traffic {
  const t: Traffic = { frames: [], messages: [], completedBy: [], pings: [], tokens: [] };
  let controlIndex = 0;
  const add = (opcode: number, data: Buffer, fin: boolean, inMessage: boolean) =>
    t.frames.push({ bytes: serverFrame(opcode, data, { fin }), opcode, fin, payload: data, inMessage });
  const sendControls = (list: Control[], inMessage: boolean) => {
    for (const c of list) {
      const data = payload(contentSeed, 1, controlIndex++, c.length);
      add(c.opcode, data, true, inMessage);
      if (c.opcode === Opcode.Ping) t.pings.push(data);
      else t.tokens.push('pong');
    }
  };
  plans.forEach((plan, i) => {
    sendControls(plan.before, false);
    const data = payload(contentSeed, 0, i, plan.size);
    const cuts = plan.cuts ? [...new Set(plan.cuts.map((c) => c % (plan.size + 1)))].sort((a, b) => a - b) : [];
    // Without cuts, one frame; with them, at least two (a cut at 0 or at the end leaves an empty fragment).
    const bounds = [0, ...cuts, plan.size];
    const pieces = bounds.length - 1;
    for (let p = 0; p < pieces; p++) {
      const piece = data.subarray(bounds[p], bounds[p + 1]);
      add(p === 0 ? Opcode.Binary : Opcode.Continuation, piece, p === pieces - 1, p > 0);
      if (p < pieces - 1) sendControls(plan.between[p] ?? [], true);
    }
    t.messages.push(data);
    t.completedBy.push(t.frames.length - 1);
    t.tokens.push('message');
  });
  sendControls(trailing, false);
  return t;
}

export const trafficPlan = fc.record({
  messages: fc.array(
    messagePlan(
      fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 200 }) },
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 80 * KiB }) },
        { weight: 2, arbitrary: fc.integer({ min: 0, max: 300 * KiB }) },
      ),
    ),
    { maxLength: 10 },
  ),
  trailing: controls,
  streamFromBytes: fc.oneof(fc.constant(64 * KiB), fc.integer({ min: 1, max: 128 * KiB })),
  headBytes: fc.oneof(fc.constant(512), fc.integer({ min: 0, max: 8 * KiB }), fc.integer({ min: 0, max: 400 * KiB })),
  contentSeed: fc.nat(),
  chunkSeed: fc.nat(),
});

