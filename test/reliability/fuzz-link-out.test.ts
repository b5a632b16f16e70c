import fc from 'fast-check';
import { once } from 'node:events';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it, onTestFailed } from 'vitest';
import { Opcode } from '../../proxy/ws/frame-parser.ts';
import { BrokerLink } from '../../proxy/ws/link.ts';
import { payload } from './harness.ts';
import { closePayload, control, KiB, openLink, SEED, within } from '../support/link-fuzz.ts';

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


type SendOp = { kind: 'send'; size: number; owned: boolean };
type PingOp = { kind: 'ping' };
type StreamOp = {
  kind: 'stream';
  size: number;
  /** Where to cut the message into parts (modulo its size; empty parts included). */
  cuts: number[];
  /** Whether each part is ours to mask in place (cycled). */
  owned: boolean[];
  /** Sends and pings made before part i (and after the last). */
  between: (SendOp | PingOp)[][];
};

const outSize = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 200 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 40 * KiB }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 300 * KiB }) },
);
const sendOp: fc.Arbitrary<SendOp> = fc.record({ kind: fc.constant('send' as const), size: outSize, owned: fc.boolean() });
const pingOp: fc.Arbitrary<PingOp> = fc.record({ kind: fc.constant('ping' as const) });
const streamOp: fc.Arbitrary<StreamOp> = fc.record({
  kind: fc.constant('stream' as const),
  size: outSize,
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
  owned: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
  between: fc.array(fc.array(fc.oneof(sendOp, pingOp), { maxLength: 2 }), { maxLength: 10 }),
});
const outPlan = fc.record({
  ops: fc.array(fc.record({ op: fc.oneof(sendOp, pingOp, streamOp), pause: fc.boolean() }), { maxLength: 16 }),
  contentSeed: fc.nat(),
});

describe('BrokerLink out under random interleavings (issue #8.3)', () => {
  it('property: sends, streamed parts and pings come out as masked whole frames, messages in order, pings after the message in progress', async () => {
    onTestFailed(() => console.error(`fuzz-link failed; replay with RELIABILITY_SEED=${SEED}`));
    await fc.assert(
      fc.asyncProperty(outPlan, async (plan) => {
        const { link, server, output, serverEnded } = openLink({ maxMessageBytes: KiB, streamFromBytes: KiB, headBytes: 100 }, () => 'collect');
        // The model: what must come out, in order. While a message is part-way written, the rest waits for its end.
        const expected: { opcode: number; payload: Buffer }[] = [];
        let deferred: typeof expected = [];
        let remaining = 0;
        let index = 0;
        const emit = (opcode: number, data: Buffer) => (remaining > 0 ? deferred : expected).push({ opcode, payload: data });
        const run = (op: SendOp | PingOp) => {
          if (op.kind === 'ping') {
            link.ping();
            emit(Opcode.Ping, Buffer.alloc(0));
            return;
          }
          const data = payload(plan.contentSeed, 0, index++, op.size);
          const copy = Buffer.from(data);
          link.send(data, op.owned);
          emit(Opcode.Binary, copy);
          if (!op.owned) expect(data.equals(copy), 'a borrowed buffer left as it was').toBe(true);
        };
        for (const { op, pause } of plan.ops) {
          if (op.kind !== 'stream') run(op);
          else {
            const data = payload(plan.contentSeed, 0, index++, op.size);
            const copy = Buffer.from(data);
            link.begin(op.size);
            emit(Opcode.Binary, copy);
            remaining = op.size;
            const cuts = op.cuts.map((c) => c % (op.size + 1)).sort((a, b) => a - b);
            const bounds = [0, ...cuts, op.size];
            for (let p = 0; p < bounds.length; p++) {
              for (const nested of op.between[p] ?? []) run(nested);
              if (p === bounds.length - 1) break;
              const owned = op.owned[p % op.owned.length];
              const part = data.subarray(bounds[p], bounds[p + 1]);
              link.part(part, owned);
              if (!owned) expect(part.equals(copy.subarray(bounds[p], bounds[p + 1])), 'a borrowed part left as it was').toBe(true);
              remaining -= part.length;
              if (remaining === 0) expected.push(...deferred.splice(0));
              expect(link.writingMessage).toBe(remaining > 0);
            }
          }
          if (pause) await tick();
        }
        link.close(1000, 'done');
        expected.push({ opcode: Opcode.Close, payload: closePayload(1000, 'done') });
        // Our end makes the link end its side, once everything it wrote has been read.
        server.end();
        await within(serverEnded, "the link's end");

        // The parser refuses an unmasked frame; a control frame inside a payload would shift every later byte.
        expect(output.error).toBeNull();
        expect(output.frames.every((f) => f.fin)).toBe(true);
        expect(output.frames.map((f) => f.opcode)).toEqual(expected.map((e) => e.opcode));
        output.frames.forEach((f, i) => expect(f.payload.equals(expected[i].payload), `frame ${i} of ${expected.length}`).toBe(true));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
