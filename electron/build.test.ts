import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildElectron } from './build.mjs';

/**
 * build.mjs really bundles: both outputs parse, and each runs its top level
 * against a stand-in 'electron' (the binary cannot run here), which proves
 * every import resolved into the bundle.
 */

let out: { main: string; preload: string };
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dist-electron-'));
  out = await buildElectron({ outdir: dir });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a CommonJS bundle with `require('electron')` answered by `electron`. */
function load(file: string, electron: unknown): void {
  const realRequire = createRequire(file);
  const module = { exports: {} };
  const req = (id: string) => (id === 'electron' ? electron : realRequire(id));
  const code = readFileSync(file, 'utf8');
  new Function('require', 'module', 'exports', '__filename', '__dirname', code)(req, module, module.exports, file, dirname(file));
}

describe('electron/build.mjs', () => {
  it('writes main.cjs and preload.cjs that node --check accepts', () => {
    for (const file of [out.main, out.preload]) {
      const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('main.cjs takes the single-instance lock and registers the app:// scheme before ready', () => {
    const calls: string[] = [];
    const electron = {
      app: {
        requestSingleInstanceLock: () => (calls.push('lock'), true),
        on: (event: string) => void calls.push(`on:${event}`),
        whenReady: () => new Promise(() => undefined),
        quit: () => calls.push('quit'),
      },
      protocol: { registerSchemesAsPrivileged: (schemes: { scheme: string }[]) => void calls.push(`scheme:${schemes.map((s) => s.scheme)}`) },
      dialog: {},
      ipcMain: {},
      shell: {},
    };
    load(out.main, electron);
    expect(calls[0]).toBe('scheme:app');
    expect(calls).toContain('lock');
    expect(calls).toEqual(expect.arrayContaining(['on:second-instance', 'on:window-all-closed', 'on:before-quit']));
    expect(calls).not.toContain('quit');
  });

  it('a second instance quits at once and touches nothing else', () => {
    const calls: string[] = [];
    load(out.main, {
      app: { requestSingleInstanceLock: () => false, on: (e: string) => void calls.push(e), whenReady: () => new Promise(() => undefined), quit: () => void calls.push('quit') },
      protocol: { registerSchemesAsPrivileged: () => undefined },
    });
    expect(calls).toEqual(['quit']);
  });

  it('preload.cjs installs window.kafkaTunnels from self-contained source, keeping error codes', async () => {
    let script: { func: (...args: unknown[]) => unknown; args: unknown[] } | null = null;
    const invoked: unknown[][] = [];
    load(out.preload, {
      contextBridge: { executeInMainWorld: (s: typeof script) => void (script = s) },
      ipcRenderer: {
        invoke: async (channel: string, ...args: unknown[]) => {
          invoked.push([channel, ...args]);
          return { ok: false, error: { name: 'ShimError', code: 'PORT_IN_USE', message: 'Port 9092 is already in use' } };
        },
        on: () => undefined,
        removeListener: () => undefined,
      },
    });
    expect(script).not.toBeNull();
    // As in Electron: only the source text reaches the page's world.
    const page: Record<string, unknown> = {};
    runInNewContext(`(${script!.func.toString()})(raw)`, { raw: script!.args[0], globalThis: page });
    const api = page.kafkaTunnels as { invoke: (c: string, ...a: unknown[]) => Promise<unknown> };
    await expect(api.invoke('tunnels:start', 'prod')).rejects.toMatchObject({ code: 'PORT_IN_USE', message: 'Port 9092 is already in use' });
    expect(invoked).toEqual([['tunnels:start', 'prod']]);
    await expect(api.invoke('not:a-channel')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(invoked).toHaveLength(1);
  });
});
