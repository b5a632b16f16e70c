import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
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

/** Newest modification time of the files under `dir` (the renderer's sources). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Builds the renderer when a fresh clone has no build yet, or its sources changed since. */
export async function ensureRendererBuilt(log: (line: string) => void = () => {}): Promise<string> {
  const index = `${RENDERER_DIR}index.html`;
  if (existsSync(index)) {
    const built = statSync(index).mtimeMs;
    const sources = Math.max(newestMtime(join(ROOT, 'renderer')), newestMtime(join(ROOT, 'shared')));
    if (sources <= built) return RENDERER_DIR;
  }
  log('Building the dashboard…');
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
