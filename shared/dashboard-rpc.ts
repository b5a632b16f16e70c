import { INVOKE_CHANNELS, PUSH_CHANNELS, type InvokeChannel, type PushChannel } from './api.ts';
import { isSerializedError, type SerializedError } from './errors.ts';

/**
 * The browser bridge's wire format: the same contract as Electron's IPC
 * (shared/api.ts), carried as JSON text messages over one WebSocket between the
 * dashboard page and the headless CLI's dashboard server (issue #6).
 *
 *   page -> server   { id, channel, args }
 *   server -> page   { id, ok: true, value } | { id, ok: false, error }
 *   server -> page   { push, payload }
 */

/** Path of the RPC WebSocket on the dashboard server. */
export const DASHBOARD_RPC_PATH = '/rpc';
/** Query parameter (page URL and RPC URL) carrying the access token. */
export const DASHBOARD_TOKEN_PARAM = 'token';

export interface RpcRequest {
  id: number;
  channel: InvokeChannel;
  args: unknown[];
}

export type RpcReply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: SerializedError };

export interface RpcPush {
  push: PushChannel;
  payload: unknown;
}

const invokeChannels: ReadonlySet<string> = new Set(INVOKE_CHANNELS);
const pushChannels: ReadonlySet<string> = new Set(PUSH_CHANNELS);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the envelope only; the arguments are validated by whoever serves the
 * channel, which never trusts the caller. Returns a sentence when it is not one.
 */
export function parseRpcRequest(value: unknown): RpcRequest | { id: number | null; problem: string } {
  if (!isObject(value)) return { id: null, problem: 'A request must be a JSON object.' };
  const id = typeof value.id === 'number' && Number.isSafeInteger(value.id) ? value.id : null;
  if (id === null) return { id: null, problem: 'A request needs a numeric id.' };
  if (typeof value.channel !== 'string' || !invokeChannels.has(value.channel)) {
    return { id, problem: `There is no channel called ${JSON.stringify(value.channel)}.` };
  }
  if (!Array.isArray(value.args)) return { id, problem: 'A request needs an args array.' };
  return { id, channel: value.channel as InvokeChannel, args: value.args };
}

/** What the page accepts from the server; anything else is ignored. */
export function parseRpcServerMessage(value: unknown): RpcReply | RpcPush | null {
  if (!isObject(value)) return null;
  if (typeof value.push === 'string') {
    return pushChannels.has(value.push) ? { push: value.push as PushChannel, payload: value.payload } : null;
  }
  if (typeof value.id !== 'number') return null;
  if (value.ok === true) return { id: value.id, ok: true, value: value.value };
  if (value.ok === false && isSerializedError(value.error)) return { id: value.id, ok: false, error: value.error };
  return null;
}
