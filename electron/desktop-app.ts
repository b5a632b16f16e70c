import { join } from 'node:path';
import { BrowserWindow, Notification, app, clipboard, protocol, session, shell } from 'electron';
import type { Profile } from '../shared/profile.ts';
import type { TunnelEvent } from '../shared/stats.ts';
import { testProfileConnection } from '../proxy/connection-test.ts';
import { ControlService } from '../proxy/control/service.ts';
import { createEngine } from '../proxy/engine.ts';
import type { TunnelManager } from '../proxy/manager.ts';
import { registerAppProtocol } from './app-protocol.ts';
import { connectWindowPushes, registerControlHandlers } from './ipc-main.ts';
import { settleWithin, startEach } from './lifecycle.ts';
import { NotificationThrottle } from './notifications.ts';
import { electronStoreBacking, safeStorageEncryptor } from './store/electron-backing.ts';
import { ProfileStore } from './store/profile-store.ts';
import { TrayController } from './tray.ts';
import { buildTrayModel, type TrayAction } from './tray-menu.ts';
import { APP_ORIGIN, dashboardWindowOptions, denyAllPermissions, hardenContents, isDashboardUrl } from './window.ts';

/**
 * The desktop app once Electron is ready: one engine, one store, one control
 * service, a tray, and at most one dashboard window. It wires these to the OS and
 * never moves bytes itself. main.ts owns the process lifecycle around it.
 */

export const PRODUCT_NAME = 'Kafka WebSocket Shim';
/** How long quitting waits for tunnels to close their clients. */
const QUIT_WAIT_MS = 5000;
/** Tray redraws are batched: a burst of connections redraws once. */
const TRAY_DEBOUNCE_MS = 250;

export interface DesktopAppOptions {
  /** Where the app's files are: the package root in development, app.asar when packaged. */
  appPath: string;
  /** The folder of the bundled main and preload (dist-electron). */
  bundleDir: string;
  /** The Vite dev server, when developing; never honoured in a packaged app. */
  devServerUrl?: string;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export class DesktopApp {
  readonly #options: DesktopAppOptions;
  readonly #store: ProfileStore;
  readonly #manager: TunnelManager;
  readonly #service: ControlService;
  readonly #throttle = new NotificationThrottle();
  #tray: TrayController | null = null;
  #window: BrowserWindow | null = null;
  /** Names for notifications and the tray, refreshed whenever profiles change. */
  #profiles: Profile[] = [];
  #trayTimer: NodeJS.Timeout | null = null;
  #shutdown: Promise<void> | null = null;
  #disposers: (() => void)[] = [];

  constructor(options: DesktopAppOptions) {
    this.#options = options;
    this.#store = new ProfileStore({
      backing: electronStoreBacking(),
      encryptor: safeStorageEncryptor(),
      log: (level, message) => options.log(level, message),
    });
    this.#manager = createEngine();
    this.#service = new ControlService({
      repository: this.#store,
      manager: this.#manager,
      host: 'electron',
      version: app.getVersion(),
      secretStorage: this.#store.secretStorage,
      clipboard: (text) => clipboard.writeText(text),
      testConnection: (profile) => testProfileConnection(profile),
    });
  }

  async start(): Promise<void> {
    const { appPath, devServerUrl } = this.#options;
    registerAppProtocol(protocol, join(appPath, 'dist', 'renderer'));
    denyAllPermissions(session.defaultSession);
    app.on('web-contents-created', (_event, contents) => {
      hardenContents(contents, { devServerUrl, openExternal: (url) => void shell.openExternal(url) });
    });
    this.#disposers.push(
      registerControlHandlers({
        service: this.#service,
        isTrustedUrl: (url) => isDashboardUrl(url, devServerUrl),
        onInternalError: (channel, err) => this.#options.log('error', `${channel} failed: ${(err as Error).stack ?? String(err)}`),
      }),
    );

    this.#profiles = await this.#store.list();
    this.#tray = new TrayController({
      iconDir: join(appPath, 'electron', 'assets'),
      onAction: (action) => void this.#onTrayAction(action),
      onClick: () => this.showDashboard(),
    });
    // The tray wants profile changes, not the once-a-second stats.
    this.#disposers.push(
      this.#service.onPush(
        (channel) => {
          if (channel === 'push:profiles') void this.#refreshProfiles();
        },
        { stats: false },
      ),
    );
    const onState = () => this.#scheduleTray();
    const onEvent = (event: TunnelEvent) => this.#onEvent(event);
    this.#manager.on('state', onState);
    this.#manager.on('event', onEvent);
    this.#disposers.push(() => {
      this.#manager.off('state', onState);
      this.#manager.off('event', onEvent);
    });
    this.#renderTray();

    const auto = this.#profiles.filter((p) => p.autoStart).map((p) => p.id);
    const failures = await startEach(auto, (id) => this.#service.invoke('tunnels:start', [id]));
    for (const f of failures) this.#announceFailure(f.id, f.error);
    if (process.platform === 'darwin' && !this.#window) app.dock?.hide();
  }

  showDashboard(): void {
    if (this.#window && !this.#window.isDestroyed()) {
      if (this.#window.isMinimized()) this.#window.restore();
      this.#window.show();
      this.#window.focus();
      return;
    }
    const { appPath, bundleDir, devServerUrl } = this.#options;
    const win = new BrowserWindow(
      dashboardWindowOptions({ preload: join(bundleDir, 'preload.cjs'), icon: join(appPath, 'build', 'icon.png'), title: PRODUCT_NAME }),
    );
    this.#window = win;
    if (process.platform === 'darwin') void app.dock?.show();
    const stopPushes = connectWindowPushes(this.#service, win.webContents);
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => {
      stopPushes();
      this.#window = null;
      this.#onWindowClosed();
    });
    void win.loadURL(devServerUrl ?? `${APP_ORIGIN}/index.html`);
  }

  /** Stops every tunnel, waiting at most QUIT_WAIT_MS; then the process may exit. Safe to call twice. */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    if (this.#trayTimer) clearTimeout(this.#trayTimer);
    for (const dispose of this.#disposers.splice(0)) dispose();
    this.#service.dispose();
    const clean = await settleWithin(this.#manager.stopAll(), QUIT_WAIT_MS);
    if (!clean) this.#options.log('warn', `Tunnels did not close within ${QUIT_WAIT_MS / 1000} s; quitting anyway`);
    this.#tray?.destroy();
  }

  #onWindowClosed(): void {
    if (process.platform === 'darwin') app.dock?.hide();
    // Windows close as part of quitting; "still running" would then be untrue.
    if (this.#shutdown || this.#store.settings().trayHintShown) return;
    this.#store.updateSettings({ trayHintShown: true });
    this.#notify({
      title: `${PRODUCT_NAME} is still running`,
      body: 'Your tunnels keep running in the tray. Quit from the tray menu to stop them.',
    });
  }

  async #onTrayAction(action: TrayAction): Promise<void> {
    switch (action.kind) {
      case 'toggle': {
        const running = this.#manager.isRunning(action.id);
        await this.#service.invoke(running ? 'tunnels:stop' : 'tunnels:start', [action.id]).catch((err) => this.#announceFailure(action.id, err));
        break;
      }
      case 'start-all': {
        const ids = this.#profiles.filter((p) => !this.#manager.isRunning(p.id)).map((p) => p.id);
        const failures = await startEach(ids, (id) => this.#service.invoke('tunnels:start', [id]));
        for (const f of failures) this.#announceFailure(f.id, f.error);
        break;
      }
      case 'stop-all':
        await this.#manager.stopAll();
        break;
      case 'open-dashboard':
        this.showDashboard();
        break;
      case 'copy':
        clipboard.writeText(action.text);
        break;
      case 'launch-at-login':
        // Windows passes args to the login item; started that way the app stays in the tray.
        app.setLoginItemSettings({ openAtLogin: action.enabled, args: ['--hidden'] });
        this.#renderTray();
        break;
      case 'quit':
        app.quit();
        break;
    }
  }

  #onEvent(event: TunnelEvent): void {
    if (event.kind === 'connection-opened' || event.kind === 'connection-closed') this.#scheduleTray();
    // Stopped on purpose: its next failure is news again.
    if (event.kind === 'tunnel-stopped') this.#throttle.forget(event.tunnelId);
    const content = this.#throttle.decide({ event, tunnelName: this.#nameOf(event.tunnelId), now: Date.now(), dashboardFocused: this.#dashboardFocused() });
    if (content) this.#notify(content, () => this.showDashboard());
  }

  /**
   * A start refused before any tunnel existed (PORT_CONFLICT, NOT_FOUND) emits no
   * event; it goes through the same throttle as one, so a refusal the tunnel
   * already reported is not announced twice.
   */
  #announceFailure(id: string, err: unknown): void {
    const e = err as { code?: string; message?: string };
    this.#onEvent({ seq: 0, tunnelId: id, time: Date.now(), level: 'error', kind: 'tunnel-error', code: e.code ?? 'INTERNAL', message: e.message ?? String(err) });
  }

  #notify(content: { title: string; body: string }, onClick?: () => void): void {
    if (!Notification.isSupported()) return;
    const n = new Notification({ title: content.title, body: content.body });
    if (onClick) n.on('click', onClick);
    n.show();
  }

  #dashboardFocused(): boolean {
    return this.#window !== null && !this.#window.isDestroyed() && this.#window.isFocused();
  }

  #nameOf(id: string): string {
    return this.#profiles.find((p) => p.id === id)?.name ?? id;
  }

  async #refreshProfiles(): Promise<void> {
    this.#profiles = await this.#store.list();
    this.#scheduleTray();
  }

  #scheduleTray(): void {
    if (this.#trayTimer || this.#shutdown) return;
    this.#trayTimer = setTimeout(() => {
      this.#trayTimer = null;
      this.#renderTray();
    }, TRAY_DEBOUNCE_MS);
  }

  #renderTray(): void {
    this.#tray?.render(
      buildTrayModel({
        profiles: this.#profiles,
        snapshots: this.#profiles.map((p) => this.#manager.snapshot(p.id)),
        // Linux has no login-item API; autostart there is a .desktop file the distro manages.
        launchAtLogin: process.platform === 'linux' ? null : app.getLoginItemSettings().openAtLogin,
        productName: PRODUCT_NAME,
      }),
    );
  }
}
