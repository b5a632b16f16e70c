import type { KafkaTunnelsApi } from '../../../shared/api.ts';
import { DASHBOARD_RPC_PATH, DASHBOARD_TOKEN_PARAM } from '../../../shared/dashboard-rpc.ts';
import { BrowserBridge, type BridgeStatus } from './browser-bridge.ts';

/**
 * One API, two bridges (issue #6): Electron's preload puts `window.kafkaTunnels`
 * on the page; without it we are in a browser talking to the headless CLI, and
 * the access token comes from the address the CLI printed.
 */

export interface PickedApi {
  api: KafkaTunnelsApi;
  /** Present for the browser bridge only: Electron's IPC does not drop. */
  onStatus?: (listener: (status: BridgeStatus) => void) => () => void;
}

declare global {
  interface Window {
    kafkaTunnels?: KafkaTunnelsApi;
  }
}

const TOKEN_STORAGE_KEY = 'kafka-tunnels-token';

interface PageEnv {
  location: Pick<Location, 'href' | 'protocol' | 'host'>;
  history: Pick<History, 'replaceState' | 'state'>;
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
}

/**
 * Reads the token from the page address and strips it from the address bar, so
 * it does not end up in screenshots, bookmarks or the history list. It is kept in
 * sessionStorage so that a reload of this tab still works.
 */
export function takeToken(env: PageEnv): string | null {
  const url = new URL(env.location.href);
  const fromUrl = url.searchParams.get(DASHBOARD_TOKEN_PARAM);
  if (fromUrl) {
    url.searchParams.delete(DASHBOARD_TOKEN_PARAM);
    env.history.replaceState(env.history.state, '', url.pathname + url.search + url.hash);
    try {
      env.storage?.setItem(TOKEN_STORAGE_KEY, fromUrl);
    } catch {
      // Storage may be disabled; the server's cookie still covers reloads.
    }
    return fromUrl;
  }
  try {
    return env.storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

export function rpcUrl(location: Pick<Location, 'protocol' | 'host'>, token: string | null): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = token ? `?${DASHBOARD_TOKEN_PARAM}=${encodeURIComponent(token)}` : '';
  return `${scheme}//${location.host}${DASHBOARD_RPC_PATH}${query}`;
}

export function pickApi(win: Window = window): PickedApi {
  if (win.kafkaTunnels) return { api: win.kafkaTunnels };
  let storage: Storage | null = null;
  try {
    storage = win.sessionStorage;
  } catch {
    storage = null;
  }
  const token = takeToken({ location: win.location, history: win.history, storage });
  const bridge = new BrowserBridge({ url: rpcUrl(win.location, token) });
  return { api: bridge, onStatus: (listener) => bridge.onStatus(listener) };
}
