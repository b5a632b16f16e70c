import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';

/**
 * The dashboard window's security settings, as data and small functions that take
 * their Electron objects as arguments, so the exact options are asserted in tests
 * (Electron's security checklist: isolation, sandbox, no Node, no navigation, no
 * new windows, no permissions).
 */

export const APP_SCHEME = 'app';
/** The built dashboard is served from here by app-protocol.ts, never from file://. */
export const APP_ORIGIN = `${APP_SCHEME}://dashboard`;

/**
 * Everything comes from the app itself. No inline script; styles may be set by
 * script (React's style prop, uPlot) which CSP does not govern, while inline
 * <style> tags and style="" attributes stay blocked. The dashboard makes no
 * network requests of its own: it talks to the engine through IPC only.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export interface DashboardWindowInput {
  preload: string;
  icon?: string;
  title: string;
}

export function dashboardWindowOptions(input: DashboardWindowInput): BrowserWindowConstructorOptions {
  return {
    title: input.title,
    icon: input.icon,
    width: 1200,
    height: 800,
    minWidth: 760,
    minHeight: 520,
    // Shown on 'ready-to-show', so the window never flashes white.
    show: false,
    backgroundColor: '#101418',
    autoHideMenuBar: true,
    webPreferences: {
      preload: input.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}

/** True for the dashboard's own pages: the app origin, or the Vite dev server while developing. */
export function isDashboardUrl(url: string, devServerUrl?: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === `${APP_SCHEME}:` && parsed.host === 'dashboard') return true;
  if (!devServerUrl) return false;
  return parsed.origin === new URL(devServerUrl).origin;
}

/** Links to the web open in the person's browser; nothing else leaves the app. */
export function isExternalLink(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}

type HardenableContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/** No navigation away from the dashboard, no new windows, no webviews. */
export function hardenContents(contents: HardenableContents, options: { devServerUrl?: string; openExternal: (url: string) => void }): void {
  const guard = (event: { preventDefault(): void }, url: string) => {
    if (!isDashboardUrl(url, options.devServerUrl)) event.preventDefault();
  };
  contents.on('will-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) options.openExternal(url);
    return { action: 'deny' };
  });
}

type PermissionSession = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'>;

/** The dashboard needs no camera, notifications, clipboard-read or anything else a page can ask for. */
export function denyAllPermissions(session: PermissionSession): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
