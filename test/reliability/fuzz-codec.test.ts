import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../proxy/kafka/api-keys.ts';
import { scanErrorCode } from '../../proxy/kafka/error-scan.ts';
import { KafkaDecodeError } from '../../proxy/kafka/errors.ts';
import { frameReader, peekCorrelationId, peekRequestHeader, responseHeaderVersion } from '../../proxy/kafka/headers.ts';
import { readProduceAcks } from '../../proxy/kafka/produce-acks.ts';
import { Reader } from '../../proxy/kafka/reader.ts';
import { INSPECTED_APIS, inspectResponse } from '../../proxy/kafka/response-rewrite.ts';
import { Writer } from '../../proxy/kafka/writer.ts';
import { CODEC_CASES, type CodecCase } from './codec-samples.ts';
import { trackAllocations } from './harness.ts';
import { mutation } from './mutations.ts';

/**
 * Issue #8.3, bad input: every decoder meets random bytes, truncations, huge and
 * negative lengths and counts. A decoder may refuse input only with a
 * KafkaDecodeError (which the session turns into a pass-through), and no
 * allocation may be sized by a length read from the wire: the largest Buffer a
 * decoder asks for stays within the bytes it was given.
 *
 * fast-check prints the seed and path of a failing case; pass them back with
 * fc.assert's { seed, path } to replay it.
 */

/** Slack for fixed-size copies (a 16-byte UUID) on top of the input's own length. */
const DECODE_SLACK = 64;

function expectRefusedCleanly(outcome: { error?: unknown; largest: number }, inputBytes: number, what: string): void {
  if (outcome.error !== undefined && !(outcome.error instanceof KafkaDecodeError)) {
    throw new Error(`${what} threw ${String(outcome.error)} instead of a KafkaDecodeError`, { cause: outcome.error });
  }
  expect(outcome.largest, `${what}: largest allocation`).toBeLessThanOrEqual(inputBytes + DECODE_SLACK);
}

function decodeTracked(c: CodecCase, version: number, bytes: Buffer) {
  return trackAllocations(() => c.decode(version, new Reader(bytes)));
}

describe.each(CODEC_CASES)('$name decoder under bad input (issue #8.3)', (c) => {
  it('decodes its own valid bodies, and refuses every truncation with a KafkaDecodeError only', () => {
    for (const v of c.versions) {
      const body = c.sample(v);
      const whole = decodeTracked(c, v, body);
      expect(whole.error, `${c.name} v${v} sample`).toBeUndefined();
      for (let cut = 0; cut < body.length; cut++) {
        expectRefusedCleanly(decodeTracked(c, v, body.subarray(0, cut)), cut, `${c.name} v${v} cut at ${cut}`);
      }
    }
  });

  it('property: random bytes are decoded or refused with a KafkaDecodeError, never allocating beyond the input', () => {
    fc.assert(
      fc.property(fc.constantFrom(...c.versions), fc.uint8Array({ maxLength: 300 }), (v, raw) => {
        const bytes = Buffer.from(raw);
        expectRefusedCleanly(decodeTracked(c, v, bytes), bytes.length, `${c.name} v${v}`);
      }),
      { numRuns: 300 },
    );
  });

  it('property: mutated valid bodies (hostile lengths, counts, varints, cuts, edits) are decoded or refused cleanly', () => {
    fc.assert(
      fc.property(fc.constantFrom(...c.versions), fc.array(mutation, { minLength: 1, maxLength: 3 }), (v, mutations) => {
        const bytes = mutations.reduce((b, m) => m(b), c.sample(v));
        expectRefusedCleanly(decodeTracked(c, v, bytes), bytes.length, `${c.name} v${v}`);
      }),
      { numRuns: 400 },
    );
  });

});

it.each(CODEC_CASES.filter((c) => c.checksVersion))('$name decoder refuses a version outside its range with KAFKA_UNSUPPORTED_VERSION', (c) => {
  for (const v of [-1, Math.max(...c.versions) + 1, 32767]) {
    const outcome = decodeTracked(c, v, c.sample(c.versions[0]));
    expect(outcome.error, `${c.name} v${v}`).toMatchObject({ name: 'KafkaDecodeError', code: 'KAFKA_UNSUPPORTED_VERSION' });
  }
});

/** A whole response frame: size, correlation id, header tags when flexible, then `body`. */
function responseFrameAround(apiKey: number, version: number, body: Buffer): { frame: Buffer; bodyOffset: number } {
  const w = new Writer();
  w.writeInt32(7);
  if (responseHeaderVersion(apiKey, version) === 1) w.writeTaggedFields([]);
  const bodyOffset = 4 + w.length;
  w.writeRaw(body);
  return { frame: w.toFrame(), bodyOffset };
}

const inspectedCases = CODEC_CASES.filter((c) =>
  ['Metadata response', 'FindCoordinator response', 'DescribeCluster response', 'ApiVersions response'].includes(c.name),
);
const apiKeyOf: Record<string, number> = {
  'Metadata response': ApiKey.Metadata,
  'FindCoordinator response': ApiKey.FindCoordinator,
  'DescribeCluster response': ApiKey.DescribeCluster,
  'ApiVersions response': ApiKey.ApiVersions,
};

describe('response inspection under bad input (issue #8.3)', () => {
  it('property: a mutated or random response either comes back as a well-formed frame or is refused with a KafkaDecodeError', () => {
    const body = fc.oneof(
      fc.tuple(fc.constantFrom(...inspectedCases), fc.array(mutation, { minLength: 0, maxLength: 3 })).chain(([c, ms]) =>
        fc.constantFrom(...c.versions).map((v) => ({ apiKey: apiKeyOf[c.name], version: v, bytes: ms.reduce((b, m) => m(b), c.sample(v)) })),
      ),
      fc.record({ apiKey: fc.constantFrom(...INSPECTED_APIS), version: fc.integer({ min: -1, max: 15 }), bytes: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) }),
    );
    fc.assert(
      fc.property(body, fc.boolean(), ({ apiKey, version, bytes }, clamp) => {
        const { frame, bodyOffset } = responseFrameAround(apiKey, version, bytes);
        const outcome = trackAllocations(() => inspectResponse(apiKey, version, frame, bodyOffset, { advertised: { host: '127.0.0.1', port: 19092 }, clamp }));
        if (outcome.error !== undefined) {
          expect(outcome.error).toBeInstanceOf(KafkaDecodeError);
        } else {
          const out = outcome.result!.frame;
          // Re-encoded or not, what goes to the client is one whole frame with the same header.
          expect(out.readInt32BE(0)).toBe(out.length - 4);
          expect(out.subarray(4, bodyOffset)).toEqual(frame.subarray(4, bodyOffset));
        }
        // Re-encoding may grow a frame (a longer advertised host), never by a wire-claimed amount.
        expect(outcome.largest).toBeLessThanOrEqual(4 * frame.length + 1024);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('header peeks and fast scans never throw (issue #8.3)', () => {
  const anyFrame = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b));

  it('property: peekRequestHeader, peekCorrelationId and frameReader on random frames', () => {
    fc.assert(
      fc.property(anyFrame, (frame) => {
        const peek = peekRequestHeader(frame);
        expect(peek === null).toBe(frame.length < 12);
        const id = peekCorrelationId(frame);
        expect(id === null).toBe(frame.length < 8);
        const outcome = trackAllocations(() => frameReader(frame));
        if (outcome.error !== undefined) expect(outcome.error).toBeInstanceOf(KafkaDecodeError);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: readProduceAcks on Produce frames of every version with random or hostile bodies', () => {
    const produceFrame = fc
      .tuple(fc.integer({ min: -1, max: 14 }), fc.constantFrom(-1, -2, 0, 3, 0x7fff, -32768), fc.uint8Array({ maxLength: 120 }))
      .map(([version, clientIdLength, rest]) => {
        const w = new Writer();
        w.writeInt16(ApiKey.Produce).writeInt16(version).writeInt32(1).writeInt16(clientIdLength).writeRaw(Buffer.from(rest));
        return w.toFrame();
      });
    fc.assert(
      fc.property(fc.oneof(produceFrame, anyFrame), (frame) => {
        const acks = readProduceAcks(frame);
        expect(acks === null || (Number.isInteger(acks) && acks >= -32768 && acks <= 32767)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('property: scanErrorCode on random and mutated Produce, Fetch and ListOffsets responses of every version', () => {
    const hot = CODEC_CASES.filter((c) => ['Produce v0 response', 'Fetch v0 response', 'ListOffsets v0 response'].includes(c.name));
    const hotKey: Record<string, number> = { 'Produce v0 response': ApiKey.Produce, 'Fetch v0 response': ApiKey.Fetch, 'ListOffsets v0 response': ApiKey.ListOffsets };
    const input = fc.oneof(
      fc.tuple(fc.constantFrom(...hot), fc.array(mutation, { maxLength: 3 })).map(([c, ms]) => ({ apiKey: hotKey[c.name], version: 0, body: ms.reduce((b, m) => m(b), c.sample(0)) })),
      fc.record({
        apiKey: fc.constantFrom(ApiKey.Produce, ApiKey.Fetch, ApiKey.ListOffsets, 99),
        version: fc.integer({ min: -1, max: 14 }),
        body: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      }),
    );
    fc.assert(
      fc.property(input, ({ apiKey, version, body }) => {
        const frame = Buffer.concat([Buffer.alloc(8), body]);
        const code = scanErrorCode(apiKey, version, frame, 8);
        expect(code === null || (Number.isInteger(code) && code >= -32768 && code <= 32767)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});
