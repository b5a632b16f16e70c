import { KafkaDecodeError } from './errors.ts';
import type { Reader, TaggedField } from './reader.ts';
import type { Writer } from './writer.ts';

/*
 * Most messages read the same fields in classic and in flexible versions; only
 * the encoding of strings, arrays and bytes differs (int16/int32 lengths versus
 * unsigned varint length + 1), and flexible structs end in tagged fields. These
 * helpers pick the encoding from one boolean so each message's codec can follow
 * its grammar once instead of twice.
 */

export function readStr(r: Reader, flexible: boolean): string {
  return flexible ? r.readCompactString() : r.readString();
}

export function readNullableStr(r: Reader, flexible: boolean): string | null {
  return flexible ? r.readCompactNullableString() : r.readNullableString();
}

export function readArr<T>(r: Reader, flexible: boolean, item: (r: Reader) => T): T[] {
  return flexible ? r.readCompactArray(item) : r.readArray(item);
}

export function readNullableArr<T>(r: Reader, flexible: boolean, item: (r: Reader) => T): T[] | null {
  return flexible ? r.readCompactNullableArray(item) : r.readNullableArray(item);
}

/** Tagged fields at the end of a struct, or none in a classic version. */
export function readTags(r: Reader, flexible: boolean): TaggedField[] {
  return flexible ? r.readTaggedFields() : [];
}

export function writeStr(w: Writer, flexible: boolean, v: string): void {
  if (flexible) w.writeCompactString(v);
  else w.writeString(v);
}

export function writeNullableStr(w: Writer, flexible: boolean, v: string | null): void {
  if (flexible) w.writeCompactNullableString(v);
  else w.writeNullableString(v);
}

export function writeArr<T>(w: Writer, flexible: boolean, items: readonly T[], item: (w: Writer, v: T) => void): void {
  if (flexible) w.writeCompactArray(items, item);
  else w.writeArray(items, item);
}

export function writeNullableArr<T>(w: Writer, flexible: boolean, items: readonly T[] | null, item: (w: Writer, v: T) => void): void {
  if (flexible) w.writeCompactNullableArray(items, item);
  else w.writeNullableArray(items, item);
}

export function writeTags(w: Writer, flexible: boolean, tags: readonly TaggedField[] | undefined): void {
  if (flexible) w.writeTaggedFields(tags ?? []);
}

/** Refuses a version outside what a codec implements, before reading a byte. */
export function checkVersion(message: string, version: number, max: number): void {
  if (!Number.isInteger(version) || version < 0 || version > max) {
    throw new KafkaDecodeError('KAFKA_UNSUPPORTED_VERSION', `${message} v${version} is not one we can read (v0–v${max})`);
  }
}

/** A body must be consumed exactly; trailing bytes mean we misread the grammar. */
export function checkFullyRead(r: Reader, message: string): void {
  if (r.remaining !== 0) {
    throw new KafkaDecodeError('KAFKA_MALFORMED', `${message} has ${r.remaining} unexpected trailing bytes`);
  }
}

export const ZERO_UUID: Buffer = Buffer.alloc(16);
export const NO_AUTHORIZED_OPERATIONS = -2147483648;
