import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The dev server injects an inline script (React Refresh) and talks HMR over a
 * WebSocket; the built page needs neither, so only `vite dev` relaxes the CSP.
 */
function devCsp(): Plugin {
  return {
    name: 'kafka-tunnels-dev-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      return html.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace("connect-src 'self'", "connect-src 'self' ws: wss:");
    },
  };
}

// The renderer is the Vite root. Its build is served by Electron (file://) and by
// the headless dashboard server, so asset paths must be relative.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react(), devCsp()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    // No inline module-preload polyfill: the page runs under script-src 'self'.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1024,
  },
});
