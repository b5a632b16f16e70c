import type { IpcEnvelope } from './ipc-envelope.ts';

/**
 * Runs in the page's own JavaScript world, installed by the preload through
 * contextBridge.executeInMainWorld. Why not exposeInMainWorld: errors crossing the
 * context bridge lose every property but the message (electron/electron#25596),
 * and the dashboard needs `err.code`. So the bridge carries envelopes, and the
 * error is built here, on the page's side.
 *
 * Electron serialises this function to source: it must use nothing from outside
 * its own body (no imports, no helpers, no closures).
 */

export interface RawBridge {
  invoke(channel: string, args: unknown[]): Promise<IpcEnvelope<unknown>>;
  subscribe(channel: string, listener: (payload: unknown) => void): () => void;
}

export function installKafkaTunnelsApi(raw: RawBridge, target: object = globalThis): void {
  const api = Object.freeze({
    async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
      const result = await raw.invoke(channel, args);
      if (result.ok) return result.value;
      const error = new Error(result.error.message) as Error & { code: string };
      error.name = result.error.name;
      error.code = result.error.code;
      throw error;
    },
    subscribe(channel: string, listener: (payload: unknown) => void): () => void {
      return raw.subscribe(channel, listener);
    },
  });
  Object.defineProperty(target, 'kafkaTunnels', { value: api, enumerable: true, writable: false, configurable: false });
}
