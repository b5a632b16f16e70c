import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HostPort, Profile } from '../../shared/profile.ts';
import { testProfileConnection } from '../connection-test.ts';
import { ControlService } from '../control/service.ts';
import { MemoryProfileRepository } from '../control/memory-repository.ts';
import { startDashboard } from '../dashboard/server.ts';
import type { TunnelManager } from '../manager.ts';

/**
 * The headless dashboard: the same renderer the desktop app shows, served over
 * HTTP with the browser bridge, behind a random access token.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RENDERER_DIR = fileURLToPath(new URL('../../dist/renderer/', import.meta.url));

/** Builds the renderer once when a fresh clone has no build yet. */
export async function ensureRendererBuilt(log: (line: string) => void = () => {}): Promise<string> {
  if (existsSync(`${RENDERER_DIR}index.html`)) return RENDERER_DIR;
  log('Building the dashboard (first run only)…');
  const { build } = await import('vite');
  await build({ root: ROOT, configFile: `${ROOT}vite.config.ts`, logLevel: 'warn' });
  return RENDERER_DIR;
}

export interface HeadlessDashboardOptions {
  manager: TunnelManager;
  profiles: Profile[];
  address: HostPort;
  version: string;
  token?: string;
  log?: (line: string) => void;
}

export async function startHeadlessDashboard(options: HeadlessDashboardOptions): Promise<{ url: string; token: string; port: number; service: ControlService; close(): Promise<void> }> {
  const staticDir = await ensureRendererBuilt(options.log);
  const service = new ControlService({
    repository: new MemoryProfileRepository(options.profiles),
    manager: options.manager,
    host: 'dashboard',
    version: options.version,
    secretStorage: false,
    testConnection: testProfileConnection,
  });
  const server = await startDashboard({ host: options.address.host, port: options.address.port, service, staticDir, token: options.token });
  return {
    url: server.url,
    token: server.token,
    port: server.port,
    service,
    close: async () => {
      await server.close();
      service.dispose();
    },
  };
}
