import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { INVOKE_CHANNELS, PUSH_CHANNELS } from '../shared/api.ts';
import type { IpcEnvelope } from './ipc-envelope.ts';
import { installKafkaTunnelsApi, type RawBridge } from './main-world.ts';

/**
 * The renderer-side half of the IPC contract, and the only code that touches
 * ipcRenderer. It runs sandboxed, so it cannot import files at run time: build.mjs
 * bundles it into one file. The page gets `window.kafkaTunnels` (KafkaTunnelsApi)
 * and nothing else: only the contract's channels, never ipcRenderer itself.
 */

const invokeChannels = new Set<string>(INVOKE_CHANNELS);
const pushChannels = new Set<string>(PUSH_CHANNELS);

const raw: RawBridge = {
  invoke(channel, args): Promise<IpcEnvelope<unknown>> {
    if (!invokeChannels.has(channel)) {
      return Promise.resolve({ ok: false, error: { name: 'ShimError', code: 'INVALID_ARGUMENT', message: `Unknown request ${channel}` } });
    }
    return ipcRenderer.invoke(channel, ...args);
  },
  subscribe(channel, listener) {
    if (!pushChannels.has(channel)) throw new Error(`Unknown subscription ${channel}`);
    // The event object stays here: it would hand the page ipcRenderer's sender.
    const onMessage = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, onMessage);
    return () => {
      ipcRenderer.removeListener(channel, onMessage);
    };
  },
};

contextBridge.executeInMainWorld({ func: installKafkaTunnelsApi, args: [raw] });
