import fc from 'fast-check';
import { once } from 'node:events';
import { describe, expect, it, onTestFailed } from 'vitest';
import { CloseCode, encodeHeader, Opcode } from '../../proxy/ws/frame-parser.ts';
import { BrokerLink } from '../../proxy/ws/link.ts';
import { maskInto } from '../../proxy/ws/mask.ts';
import { type LinkEvent } from '../support/link-peer.ts';
import { Random, payload } from './harness.ts';
import { mutation } from './mutations.ts';
import { buildTraffic, closePayload, control, delivered, endsOf, KiB, messagePlan, openLink, SEED, serverFrame, type Traffic, type TrafficFrame, trafficPlan, within, writeChunked } from '../support/link-fuzz.ts';

/**
 * Issue #8.3 for BrokerLink (proxy/ws/link.ts), the code that reads the
 * broker's WebSocket frames and writes ours. No network: the link gets one end
 * of an in-process duplex pair, and the test plays the broker on the other,
 * writing raw frames cut at random places and parsing what the link writes back.
 * Valid traffic must come out exactly; hostile traffic may only end in a
 * protocol error and one close; what we send must be well-framed and masked.
 *
 * Seeded: a failure prints RELIABILITY_SEED=<n>; set it to replay the same run.
 */


describe('BrokerLink under random valid broker traffic (issue #8.3)', () => {
  it('property: every message arrives once, in order, byte-identical; every pong is reported and every ping answered', async () => {
    onTestFailed(() => console.error(`fuzz-link failed; replay with RELIABILITY_SEED=${SEED}`));
    await fc.assert(
      fc.asyncProperty(trafficPlan, async (plan) => {
        const traffic = buildTraffic(plan.messages, plan.trailing, plan.contentSeed);
        const options = { maxMessageBytes: 1024 * KiB, streamFromBytes: plan.streamFromBytes, headBytes: plan.headBytes };
        const choose = (items: LinkEvent[]) => plan.messages[delivered(items).messages.length]?.choice ?? 'collect';
        const { server, events, thrown, output, serverEnded } = openLink(options, choose);
        const frames = [...traffic.frames.map((f) => f.bytes), serverFrame(Opcode.Close, closePayload(1000, 'end of traffic'))];
        await writeChunked(server, Buffer.concat(frames), new Random(plan.chunkSeed), endsOf(frames));
        const closed = await within(events.first('close'), "the link's close");
        await within(serverEnded, "the link's end");

        expect(thrown).toEqual([]);
        expect(closed).toEqual({ type: 'close', code: 1000, reason: 'end of traffic' });
        const got = delivered(events.items);
        expect(got.problems).toEqual([]);
        expect(got.tokens).toEqual([...traffic.tokens, 'close']);
        const offered = traffic.messages.map((data, i) => ({ data, i })).filter(({ data, i }) => !traffic.frames[traffic.completedBy[i]].inMessage && data.length >= plan.streamFromBytes);
        const starts = events.ofType('messageStart');
        expect(starts.map((s) => s.length)).toEqual(offered.map((o) => o.data.length));
        starts.forEach((s, k) => expect(s.head.equals(offered[k].data.subarray(0, plan.headBytes)), `head of message ${offered[k].i}`).toBe(true));
        got.messages.forEach((m, i) => {
          expect(m.data.equals(traffic.messages[i]), `message ${i} of ${traffic.messages.length}`).toBe(true);
          expect(m.streamed, `message ${i} streamed`).toBe(offered.some((o) => o.i === i) && plan.messages[i].choice === 'stream');
        });
        // The link answered each ping with its payload, then the close with its code.
        expect(output.error).toBeNull();
        expect(output.frames.map((f) => f.opcode)).toEqual([...traffic.pings.map(() => Opcode.Pong), Opcode.Close]);
        traffic.pings.forEach((p, i) => expect(output.frames[i].payload.equals(p), `pong ${i}`).toBe(true));
        expect(output.frames.at(-1)!.payload).toEqual(closePayload(1000, ''));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

// ---- hostile traffic ----

/** What the damage must lead to: a named error, a clean end (1006, nothing lost), or anything within the rules. */
type Outcome = 'BROKER_PROTOCOL_ERROR' | 'BROKER_FRAME_TOO_LARGE' | 'none' | 'unknown';

interface Hostile {
  bytes: Buffer;
  /** Where frames end, where known, for cutting at awkward places. */
  frameEnds: number[];
  /** Frames before the first damaged byte: the messages, pongs and pings in them must be handled as if undamaged. */
  intactFrames: number;
  outcome: Outcome;
}

type Damage = (t: Traffic) => Hostile;

const HOSTILE_MAX_BYTES = 16 * KiB;
const PROTOCOL: Outcome = 'BROKER_PROTOCOL_ERROR';

/** The traffic with `remove` frames at `k` replaced by `insert`. */
function spliced(t: Traffic, k: number, remove: number, insert: Buffer[], outcome: Outcome): Hostile {
  const frames = t.frames.map((f) => f.bytes);
  frames.splice(k, remove, ...insert);
  return { bytes: Buffer.concat(frames), frameEnds: endsOf(frames), intactFrames: k, outcome };
}

/** Frame n (modulo the count) rewritten by `edit`. */
function edited(n: number, edit: (f: TrafficFrame) => [Buffer, Outcome]): Damage {
  return (t) => {
    const k = n % t.frames.length;
    const [bytes, outcome] = edit(t.frames[k]);
    return spliced(t, k, 1, [bytes], outcome);
  };
}

/** `frame` inserted before frame n (modulo the count + 1; it may go last). */
function inserted(n: number, frame: (inMessage: boolean) => Buffer, outcome: Outcome): Damage {
  return (t) => {
    const k = n % (t.frames.length + 1);
    return spliced(t, k, 0, [frame(t.frames[k]?.inMessage ?? false)], outcome);
  };
}

function withHeaderByte(f: TrafficFrame, change: (b: Buffer) => void): Buffer {
  const b = Buffer.from(f.bytes);
  change(b);
  return b;
}

/** A header claiming `length` bytes (the 16- or 64-bit form), followed by the frame's real payload. */
function withLength(f: TrafficFrame, length: bigint): Buffer {
  const header = length <= 0xffffn ? Buffer.from([f.bytes[0], 126, Number(length >> 8n), Number(length & 0xffn)]) : Buffer.alloc(10);
  if (length > 0xffffn) {
    header[0] = f.bytes[0];
    header[1] = 127;
    header.writeBigUInt64BE(length, 2);
  }
  return Buffer.concat([header, f.payload]);
}

/** Close payloads a broker may not send (RFC 6455 §5.5.1, §7.4). */
const BAD_CLOSE_PAYLOADS = [
  Buffer.from([0x03]),
  ...[0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535].map((code) => closePayload(code, '')),
  closePayload(1000, Buffer.from([0xff, 0xfe])),
  closePayload(1001, Buffer.from('cut é').subarray(0, 5)),
];

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 })).map(([n, bit]) => edited(n, (f) => [withHeaderByte(f, (b) => void (b[0] |= 0x40 >> bit)), PROTOCOL])),
  fc.tuple(fc.nat(), fc.constantFrom(3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf)).map(([n, opcode]) =>
    edited(n, (f) => [withHeaderByte(f, (b) => void (b[0] = (b[0] & 0xf0) | opcode)), PROTOCOL]),
  ),
  // A masked server frame, masked properly.
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([n, key]) =>
    edited(n, (f) => {
      const mask = Buffer.from(key);
      const masked = Buffer.alloc(f.payload.length);
      maskInto(f.payload, mask, 0, masked, 0);
      return [Buffer.concat([encodeHeader({ opcode: f.opcode, fin: f.fin, length: f.payload.length, mask }), masked]), PROTOCOL];
    }),
  ),
  // A length above the limit, up to 2^64 - 1; on a control frame the 125-byte rule speaks first.
  fc
    .tuple(
      fc.nat(),
      fc.oneof(
        fc.bigInt({ min: BigInt(HOSTILE_MAX_BYTES + 1), max: 0xffffn }),
        fc.bigInt({ min: 0x10000n, max: 2n ** 32n }),
        fc.bigInt({ min: 2n ** 53n - 1n, max: 2n ** 64n - 1n }),
      ),
    )
    .map(([n, length]) => edited(n, (f) => [withLength(f, length), f.opcode >= Opcode.Close ? PROTOCOL : 'BROKER_FRAME_TOO_LARGE'])),
  fc
    .tuple(fc.nat(), fc.constantFrom(Opcode.Ping, Opcode.Pong, Opcode.Close), fc.integer({ min: 126, max: 1000 }))
    .map(([n, opcode, length]) => inserted(n, () => serverFrame(opcode, Buffer.alloc(length)), PROTOCOL)),
  fc
    .tuple(fc.nat(), fc.constantFrom(Opcode.Ping, Opcode.Pong, Opcode.Close), fc.integer({ min: 0, max: 125 }))
    .map(([n, opcode, length]) => inserted(n, () => serverFrame(opcode, Buffer.alloc(length), { fin: false }), PROTOCOL)),
  // A continuation with nothing to continue, or a new message inside a fragmented one.
  fc
    .tuple(fc.nat(), fc.integer({ min: 0, max: 100 }), fc.boolean())
    .map(([n, length, fin]) => inserted(n, (inMessage) => serverFrame(inMessage ? Opcode.Binary : Opcode.Continuation, Buffer.alloc(length), { fin }), PROTOCOL)),
  fc.tuple(fc.nat(), fc.constantFrom(...BAD_CLOSE_PAYLOADS)).map(([n, data]) => inserted(n, () => serverFrame(Opcode.Close, data), PROTOCOL)),
  // Too large as one frame, or as fragments each within the limit; sent where a message may begin.
  fc.tuple(fc.nat(), fc.boolean()).map(
    ([n, fragmented]): Damage =>
      (t) => {
        let k = n % (t.frames.length + 1);
        while (k < t.frames.length && t.frames[k].inMessage) k++;
        const half = Buffer.alloc(HOSTILE_MAX_BYTES / 2 + 1);
        const frames = fragmented
          ? [serverFrame(Opcode.Binary, half, { fin: false }), serverFrame(Opcode.Continuation, half)]
          : [serverFrame(Opcode.Binary, Buffer.alloc(HOSTILE_MAX_BYTES + 1))];
        return spliced(t, k, 0, frames, 'BROKER_FRAME_TOO_LARGE');
      },
  ),
  // Cut anywhere: what came whole is delivered, the rest waits for bytes that never come.
  fc.nat().map(
    (n): Damage =>
      (t) => {
        const all = Buffer.concat(t.frames.map((f) => f.bytes));
        const cut = n % (all.length + 1);
        let intactFrames = 0;
        for (let end = 0; intactFrames < t.frames.length && (end += t.frames[intactFrames].bytes.length) <= cut; ) intactFrames++;
        return { bytes: all.subarray(0, cut), frameEnds: endsOf(t.frames.map((f) => f.bytes)), intactFrames, outcome: 'none' };
      },
  ),
  // Anything else: a flipped header bit, junk between frames, Kafka-style byte mutations, noise.
  fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 7 })).map(([n, at, bit]) =>
    edited(n, (f) => [withHeaderByte(f, (b) => void (b[at % (b.length - f.payload.length)] ^= 1 << bit)), 'unknown']),
  ),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([n, junk]) => inserted(n, () => Buffer.from(junk), 'unknown')),
  fc.array(mutation, { minLength: 1, maxLength: 3 }).map(
    (ms): Damage =>
      (t) => ({ bytes: ms.reduce<Buffer>((b, m) => m(b), Buffer.concat(t.frames.map((f) => f.bytes))), frameEnds: [], intactFrames: 0, outcome: 'unknown' }),
  ),
  fc.uint8Array({ maxLength: 3000 }).map((noise): Damage => () => ({ bytes: Buffer.from(noise), frameEnds: [], intactFrames: 0, outcome: 'unknown' })),
);

const hostilePlan = fc.record({
  messages: fc.array(messagePlan(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 12 * KiB }))), { minLength: 1, maxLength: 6 }),
  damage,
  contentSeed: fc.nat(),
  chunkSeed: fc.nat(),
});

describe('BrokerLink under hostile broker traffic (issue #8.3)', () => {
  it('property: damaged or random bytes never throw; the link delivers what came whole, or reports one protocol error and closes once', async () => {
    onTestFailed(() => console.error(`fuzz-link failed; replay with RELIABILITY_SEED=${SEED}`));
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(hostilePlan, async (plan) => {
        const traffic = buildTraffic(plan.messages, [], plan.contentSeed);
        const hostile = plan.damage(traffic);
        const choose = (items: LinkEvent[]) => plan.messages[delivered(items).messages.length]?.choice ?? 'collect';
        const { server, events, thrown, output, serverEnded } = openLink({ maxMessageBytes: HOSTILE_MAX_BYTES, streamFromBytes: KiB, headBytes: 100 }, choose);
        await writeChunked(server, hostile.bytes, new Random(plan.chunkSeed), hostile.frameEnds);
        if (!server.writableEnded) server.end();
        const closed = await within(events.first('close'), "the link's close");
        await within(serverEnded, "the link's end");

        expect(thrown).toEqual([]);
        expect(output.error).toBeNull();
        const types = events.types();
        expect(types.filter((t) => t === 'close')).toHaveLength(1);
        expect(types.at(-1)).toBe('close');
        const errors = events.ofType('error');
        expect(errors.length).toBeLessThanOrEqual(1);
        if (errors.length === 1) {
          const { code } = errors[0];
          expect(['BROKER_PROTOCOL_ERROR', 'BROKER_FRAME_TOO_LARGE']).toContain(code);
          // Nothing after the error but the close, which carries the code the link sent.
          expect(types.slice(types.indexOf('error') + 1)).toEqual(['close']);
          const closeCode = code === 'BROKER_FRAME_TOO_LARGE' ? CloseCode.TooBig : CloseCode.ProtocolError;
          expect(closed).toEqual({ type: 'close', code: closeCode, reason: '' });
          // The link's one close frame comes last and carries that code.
          const sent = output.frames.filter((f) => f.opcode === Opcode.Close);
          expect(sent).toHaveLength(1);
          expect(output.frames.at(-1)).toBe(sent[0]);
          expect(sent[0].payload).toEqual(closePayload(closeCode, ''));
        }
        const got = delivered(events.items);
        expect(got.problems).toEqual([]);
        const intact = traffic.messages.filter((_, i) => traffic.completedBy[i] < hostile.intactFrames);
        expect(got.messages.length).toBeGreaterThanOrEqual(intact.length);
        intact.forEach((data, i) => expect(got.messages[i].data.equals(data), `message ${i}`).toBe(true));
        seen.set(errors[0]?.code ?? hostile.outcome, (seen.get(errors[0]?.code ?? hostile.outcome) ?? 0) + 1);
        if (hostile.outcome === 'unknown') return;

        // A known outcome: exactly the intact frames were acted on, then the error (or the plain end).
        expect(errors.map((e) => e.code)).toEqual(hostile.outcome === 'none' ? [] : [hostile.outcome]);
        expect(got.messages).toHaveLength(intact.length);
        if (hostile.outcome === 'none') expect(closed).toEqual({ type: 'close', code: CloseCode.Abnormal, reason: '' });
        const before = traffic.frames.slice(0, hostile.intactFrames);
        expect(events.ofType('pong')).toHaveLength(before.filter((f) => f.opcode === Opcode.Pong).length);
        const pings = before.filter((f) => f.opcode === Opcode.Ping).map((f) => f.payload);
        const pongs = output.frames.filter((f) => f.opcode === Opcode.Pong).map((f) => f.payload);
        expect(pongs).toEqual(pings);
      }),
      { seed: SEED, numRuns: 1500 },
    );
    // Worth something only if each kind of error, and clean ends, were reached often.
    expect(seen.get('BROKER_PROTOCOL_ERROR') ?? 0).toBeGreaterThan(250);
    expect(seen.get('BROKER_FRAME_TOO_LARGE') ?? 0).toBeGreaterThan(50);
    expect(seen.get('none') ?? 0).toBeGreaterThan(50);
  });
});

// ---- what the link writes ----
