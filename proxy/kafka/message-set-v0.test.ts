import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { KafkaDecodeError } from './errors.ts';
import {
  compressionCodec,
  decodeMessageSetV0,
  encodeMessageSetV0,
  ENTRY_OVERHEAD_V0,
  setEntryOffset,
  type MessageV0,
} from './message-set-v0.ts';

// KafkaJS's message-set codec is CommonJS and untyped; it serves as the oracle.
const require = createRequire(import.meta.url);
const KafkaJsMessageSet = require('kafkajs/src/protocol/messageSet') as (o: {
  messageVersion: number;
  compression: number;
  entries: { key: Buffer | null; value: Buffer | null }[];
}) => { buffer: Buffer };
const KafkaJsDecoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;
const kafkaJsDecodeSet = require('kafkajs/src/protocol/messageSet/decoder') as (
  d: unknown,
  size: number,
) => Promise<{ offset: string; key: Buffer | null; value: Buffer | null; crc: number; magicByte: number; attributes: number }[]>;

const SAMPLE: MessageV0[] = [
  { offset: 0n, key: Buffer.from('k1'), value: Buffer.from('hello') },
  { offset: 1n, key: null, value: Buffer.from('no key') },
  { offset: 2n, key: Buffer.from('k3'), value: null },
  { offset: 7n, key: Buffer.alloc(0), value: Buffer.alloc(300, 0xab) },
];

describe('v0 message set', () => {
  it('round-trips keys, values, nulls and offsets with valid CRCs', () => {
    const { messages, partialBytes } = decodeMessageSetV0(encodeMessageSetV0(SAMPLE));
    expect(partialBytes).toBe(0);
    expect(messages.map((m) => ({ offset: m.offset, key: m.key, value: m.value }))).toEqual(SAMPLE);
    for (const m of messages) {
      expect(m.crcValid).toBe(true);
      expect(m.magic).toBe(0);
      expect(m.attributes).toBe(0);
    }
  });

  it('computes the CRC over magic..value, as IEEE CRC-32', () => {
    const set = encodeMessageSetV0([{ key: Buffer.from('a'), value: Buffer.from('b') }]);
    const crc = set.readUInt32BE(ENTRY_OVERHEAD_V0);
    expect(crc).toBe(crc32(set.subarray(ENTRY_OVERHEAD_V0 + 4)));
  });

  it('flags a message whose bytes no longer match its CRC, and only that one', () => {
    const set = encodeMessageSetV0(SAMPLE);
    // Flip a byte of the first value ("hello").
    set[set.indexOf('hello')] ^= 0xff;
    const { messages } = decodeMessageSetV0(set);
    expect(messages.map((m) => m.crcValid)).toEqual([false, true, true, true]);
  });

  it('stops at a trailing partial message and reports its size, at every cut point', () => {
    const whole = encodeMessageSetV0(SAMPLE.slice(0, 2));
    const firstLength = decodeMessageSetV0(whole).messages[0].entry.length;
    for (let cut = 1; cut < whole.length - firstLength; cut++) {
      const partial = whole.subarray(0, firstLength + cut);
      const { messages, partialBytes } = decodeMessageSetV0(partial);
      expect(messages).toHaveLength(1);
      expect(partialBytes).toBe(cut);
    }
    expect(decodeMessageSetV0(whole.subarray(0, 5))).toMatchObject({ messages: [], partialBytes: 5 });
  });

  it('rejects a whole entry that cannot be a message', () => {
    const set = encodeMessageSetV0(SAMPLE.slice(0, 1));
    const tooSmall = Buffer.from(set);
    tooSmall.writeInt32BE(3, 8);
    expect(() => decodeMessageSetV0(tooSmall)).toThrow(KafkaDecodeError);

    const badMagic = Buffer.from(set);
    badMagic[ENTRY_OVERHEAD_V0 + 4] = 1;
    expect(() => decodeMessageSetV0(badMagic)).toThrow(expect.objectContaining({ code: 'KAFKA_UNSUPPORTED_VERSION' }));

    // message_size one larger than key+value need, with a spare byte present.
    const extra = Buffer.concat([set, Buffer.from([0])]);
    extra.writeInt32BE(extra.readInt32BE(8) + 1, 8);
    expect(() => decodeMessageSetV0(extra)).toThrow(expect.objectContaining({ code: 'KAFKA_MALFORMED' }));
  });

  it('reports a compression codec in attributes instead of failing', () => {
    const set = encodeMessageSetV0([{ key: null, value: Buffer.from('zipped?'), attributes: 1 }]);
    const [m] = decodeMessageSetV0(set).messages;
    expect(m.crcValid).toBe(true);
    expect(compressionCodec(m.attributes)).toBe(1);
  });

  it('rewrites an entry offset without breaking its CRC', () => {
    const set = encodeMessageSetV0(SAMPLE.slice(0, 1));
    setEntryOffset(set, 42n);
    const [m] = decodeMessageSetV0(set).messages;
    expect(m.offset).toBe(42n);
    expect(m.crcValid).toBe(true);
  });

  it('decodes what KafkaJS encodes', () => {
    const entries = SAMPLE.map(({ key, value }) => ({ key, value }));
    const bytes = Buffer.from(KafkaJsMessageSet({ messageVersion: 0, compression: 0, entries }).buffer);
    const { messages, partialBytes } = decodeMessageSetV0(bytes);
    expect(partialBytes).toBe(0);
    // KafkaJS writes offset -1 for uncompressed produce sets; the broker assigns offsets.
    expect(messages.map((m) => m.offset)).toEqual([-1n, -1n, -1n, -1n]);
    expect(messages.map((m) => m.crcValid)).toEqual([true, true, true, true]);
    expect(messages.map((m) => [m.key, m.value])).toEqual(entries.map((e) => [e.key, e.value]));
  });

  it('encodes what KafkaJS decodes, including a partial tail it skips', async () => {
    const bytes = encodeMessageSetV0(SAMPLE);
    const decoded = await kafkaJsDecodeSet(new KafkaJsDecoder(bytes), bytes.length);
    expect(decoded.map((m) => [m.offset, m.key, m.value, m.magicByte])).toEqual(
      SAMPLE.map((m) => [String(m.offset), m.key, m.value, 0]),
    );
    expect(decoded.map((m) => m.crc >>> 0)).toEqual(decodeMessageSetV0(bytes).messages.map((m) => m.crc));

    const cut = bytes.subarray(0, bytes.length - 10);
    const partial = await kafkaJsDecodeSet(new KafkaJsDecoder(cut), cut.length);
    expect(partial).toHaveLength(3);
  });
});
