import { app, dialog, protocol } from 'electron';
import { APP_SCHEME_PRIVILEGES } from './app-protocol.ts';
import { DesktopApp, PRODUCT_NAME } from './desktop-app.ts';

/**
 * The Electron entry (bundled to dist-electron/main.cjs): one instance, living in
 * the tray, that stops its tunnels before it exits. Everything else is in
 * desktop-app.ts.
 */

function log(level: 'info' | 'warn' | 'error', message: string): void {
  // Secrets never reach here: the store and the engine log names, never header values.
  const line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}`;
  if (level === 'error') console.error(line);
  else console.log(line);
}

// Must happen before 'ready': privileges cannot be granted to a scheme later.
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the tray and the ports; it shows its window on 'second-instance'.
  app.quit();
} else {
  let desktop: DesktopApp | null = null;
  let quitting: 'no' | 'stopping' | 'done' = 'no';

  app.on('second-instance', () => desktop?.showDashboard());
  // The app lives in the tray: closing the last window is not quitting.
  app.on('window-all-closed', () => undefined);
  app.on('activate', () => desktop?.showDashboard());

  app.on('before-quit', (event) => {
    if (quitting === 'done' || !desktop) return;
    event.preventDefault();
    if (quitting === 'stopping') return;
    quitting = 'stopping';
    void desktop.shutdown().finally(() => {
      quitting = 'done';
      app.quit();
    });
  });

  app
    .whenReady()
    .then(async () => {
      desktop = new DesktopApp({
        appPath: app.getAppPath(),
        bundleDir: __dirname,
        devServerUrl: app.isPackaged ? undefined : process.env.VITE_DEV_SERVER_URL,
        log,
      });
      await desktop.start();
      // Started by hand, show the dashboard; started at login, stay in the tray.
      if (!app.getLoginItemSettings().wasOpenedAtLogin && !process.argv.includes('--hidden')) desktop.showDashboard();
    })
    .catch((err: unknown) => {
      log('error', `Start-up failed: ${(err as Error).stack ?? String(err)}`);
      dialog.showErrorBox(`${PRODUCT_NAME} could not start`, (err as Error).message ?? String(err));
      app.exit(1);
    });
}
