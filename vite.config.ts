import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The renderer is the Vite root. Its build is served by Electron (file://) and by
// the headless dashboard server, so asset paths must be relative.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
  },
});
