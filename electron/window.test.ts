import { EventEmitter } from 'node:events';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Session, WebContents } from 'electron';
import { contentType, registerAppProtocol, resolveAsset } from './app-protocol.ts';
import { CONTENT_SECURITY_POLICY, dashboardWindowOptions, denyAllPermissions, hardenContents, isDashboardUrl } from './window.ts';

describe('dashboard window options', () => {
  it('isolates the page: context isolation, sandbox, no Node anywhere, no webviews', () => {
    const options = dashboardWindowOptions({ preload: '/app/dist-electron/preload.cjs', title: 'Kafka Tunnels' });
    expect(options.webPreferences).toMatchObject({
      preload: '/app/dist-electron/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(options.show).toBe(false);
  });

  it('has a CSP that allows only the app itself: no inline script, no eval, no remote hosts', () => {
    const directives = Object.fromEntries(CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
  });
});

describe('navigation and windows', () => {
  function contents() {
    const emitter = new EventEmitter();
    let openHandler: ((d: { url: string }) => { action: string }) | null = null;
    const fake = {
      on: (e: string, l: (...a: unknown[]) => void) => emitter.on(e, l),
      setWindowOpenHandler: (h: typeof openHandler) => void (openHandler = h),
    };
    const opened: string[] = [];
    hardenContents(fake as unknown as WebContents, { devServerUrl: 'http://localhost:5173/', openExternal: (u) => void opened.push(u) });
    const navigate = (event: string, url: string) => {
      let prevented = false;
      emitter.emit(event, { preventDefault: () => void (prevented = true) }, url);
      return prevented;
    };
    return { navigate, open: (url: string) => openHandler!({ url }), opened };
  }

  it('allows only the dashboard itself, and the dev server while developing', () => {
    const c = contents();
    expect(c.navigate('will-navigate', 'app://dashboard/index.html#/profiles')).toBe(false);
    expect(c.navigate('will-navigate', 'http://localhost:5173/')).toBe(false);
    expect(c.navigate('will-navigate', 'https://evil.example/')).toBe(true);
    expect(c.navigate('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(c.navigate('will-redirect', 'app://other/x')).toBe(true);
    expect(c.navigate('will-attach-webview', 'app://dashboard/')).toBe(true);
  });

  it('denies every new window; https links go to the browser instead', () => {
    const c = contents();
    expect(c.open('https://github.com/example/docs')).toEqual({ action: 'deny' });
    expect(c.open('app://dashboard/index.html')).toEqual({ action: 'deny' });
    expect(c.open('javascript:alert(1)')).toEqual({ action: 'deny' });
    expect(c.opened).toEqual(['https://github.com/example/docs']);
  });

  it('treats the dev server as the dashboard only when one is configured', () => {
    expect(isDashboardUrl('http://localhost:5173/')).toBe(false);
    expect(isDashboardUrl('app://dashboard/')).toBe(true);
    expect(isDashboardUrl('not a url')).toBe(false);
  });

  it('denies every permission request and check', () => {
    let request: ((c: unknown, p: string, cb: (ok: boolean) => void) => void) | null = null;
    let check: (() => boolean) | null = null;
    let device: (() => boolean) | null = null;
    denyAllPermissions({
      setPermissionRequestHandler: (h: typeof request) => void (request = h),
      setPermissionCheckHandler: (h: typeof check) => void (check = h),
      setDevicePermissionHandler: (h: typeof device) => void (device = h),
    } as unknown as Session);
    const answers: boolean[] = [];
    for (const p of ['media', 'notifications', 'clipboard-read', 'geolocation']) request!(null, p, (ok) => answers.push(ok));
    expect(answers).toEqual([false, false, false, false]);
    expect(check!()).toBe(false);
    expect(device!()).toBe(false);
  });
});

describe('app:// protocol', () => {
  const root = mkdtempSync(join(tmpdir(), 'dashboard-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(root, '..', 'outside-secret.txt'), 'nope');
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(join(root, '..', 'outside-secret.txt'), { force: true });
  });

  it('maps dashboard URLs to files under the root, and routes to index.html', () => {
    expect(resolveAsset(root, 'app://dashboard/')).toBe(join(root, 'index.html'));
    expect(resolveAsset(root, 'app://dashboard/assets/app.js?v=1')).toBe(join(root, 'assets', 'app.js'));
    expect(resolveAsset(root, 'app://dashboard/profiles/prod')).toBe(join(root, 'index.html'));
  });

  it('never serves a file outside the root, nor for another host', () => {
    // The URL parser folds literal and %2e dot segments at the root: they stay inside.
    expect(resolveAsset(root, 'app://dashboard/../outside-secret.txt')).toBe(join(root, 'outside-secret.txt'));
    expect(resolveAsset(root, 'app://dashboard/%2e%2e/outside-secret.txt')).toBe(join(root, 'outside-secret.txt'));
    // An encoded slash survives the parser; decoding it must not open a way out.
    expect(resolveAsset(root, 'app://dashboard/assets/%2e%2e%2f%2e%2e%2foutside-secret.txt')).toBeNull();
    expect(resolveAsset(root, 'app://dashboard/%00.js')).toBeNull();
    expect(resolveAsset(root, 'app://elsewhere/index.html')).toBeNull();
    expect(resolveAsset(root, 'file:///etc/passwd')).toBeNull();
  });

  it('answers with the file, its type and the CSP header; 404 for anything else', async () => {
    let handler: ((r: Request) => Promise<Response>) | null = null;
    registerAppProtocol({ handle: (_scheme: string, h: typeof handler) => void (handler = h) } as never, root);
    const ok = await handler!(new Request('app://dashboard/assets/app.js'));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('console.log(1)');
    expect(ok.headers.get('content-type')).toBe(contentType('app.js'));
    expect(ok.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect((await handler!(new Request('app://dashboard/missing.js'))).status).toBe(404);
    expect((await handler!(new Request('app://dashboard/assets/..%2f..%2foutside-secret.txt'))).status).toBe(404);
  });
});
