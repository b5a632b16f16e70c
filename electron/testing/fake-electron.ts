import { EventEmitter } from 'node:events';

/**
 * A stand-in for the 'electron' module at its boundary, for tests under plain Node
 * (the Electron binary cannot run here). ipcMain, ipcRenderer and a window's
 * webContents are wired to each other the way Electron wires them, including the
 * structured clone on every crossing, which is what strips an Error to its message.
 */

type Handler = (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => unknown;
type RendererListener = (event: object, payload: unknown) => void;

export function createFakeElectron() {
  const handlers = new Map<string, Handler>();
  const rendererListeners = new Map<string, Set<RendererListener>>();
  /** The page the fake renderer pretends to be; tests change it to play an intruder. */
  const state = { senderUrl: 'app://dashboard/index.html', mainWorld: {} as Record<string, unknown> };

  const ipcMain = {
    handle(channel: string, handler: Handler) {
      if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      handlers.set(channel, handler);
    },
    removeHandler(channel: string) {
      handlers.delete(channel);
    },
  };

  const ipcRenderer = {
    async invoke(channel: string, ...args: unknown[]) {
      const handler = handlers.get(channel);
      if (!handler) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`);
      const result = await handler({ senderFrame: { url: state.senderUrl } }, ...structuredClone(args));
      return structuredClone(result);
    },
    on(channel: string, listener: RendererListener) {
      if (!rendererListeners.has(channel)) rendererListeners.set(channel, new Set());
      rendererListeners.get(channel)!.add(listener);
    },
    removeListener(channel: string, listener: RendererListener) {
      rendererListeners.get(channel)?.delete(listener);
    },
  };

  class FakeWebContents extends EventEmitter {
    #destroyed = false;
    readonly sent: { channel: string; payload: unknown }[] = [];
    send(channel: string, payload: unknown) {
      if (this.#destroyed) throw new Error('Object has been destroyed');
      this.sent.push({ channel, payload });
      for (const l of rendererListeners.get(channel) ?? []) l({}, structuredClone(payload));
    }
    isDestroyed() {
      return this.#destroyed;
    }
    destroy() {
      this.#destroyed = true;
      this.emit('destroyed');
    }
  }

  const contextBridge = {
    /** Like Electron: the function travels as source text and runs in another world. */
    executeInMainWorld({ func, args = [] }: { func: (...a: unknown[]) => unknown; args?: unknown[] }) {
      const rebuilt = new Function(`return (${func.toString()})`)() as (...a: unknown[]) => unknown;
      return rebuilt(...args, state.mainWorld);
    },
    exposeInMainWorld() {
      throw new Error('The preload is expected to use executeInMainWorld');
    },
  };

  return { ipcMain, ipcRenderer, contextBridge, FakeWebContents, handlers, rendererListeners, state };
}

export type FakeElectron = ReturnType<typeof createFakeElectron>;
