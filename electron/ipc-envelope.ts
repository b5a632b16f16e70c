import type { SerializedError } from '../shared/errors.ts';

/**
 * What crosses IPC for every request. Electron keeps only the message of an error
 * thrown in a handler, so handlers never throw: failures travel as data, with
 * their code, and are thrown again on the renderer side (main-world.ts).
 */
export type IpcEnvelope<T> = { ok: true; value: T } | { ok: false; error: SerializedError };
