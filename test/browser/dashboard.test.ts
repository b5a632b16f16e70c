import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryProfileRepository } from '../../proxy/control/memory-repository.ts';
import { ControlService } from '../../proxy/control/service.ts';
import { testProfileConnection } from '../../proxy/connection-test.ts';
import { startDashboard, type Dashboard } from '../../proxy/dashboard/server.ts';
import { startDemoBroker, type DemoBroker } from '../../proxy/demo-broker/index.ts';
import { createEngine } from '../../proxy/engine.ts';
import type { TunnelManager } from '../../proxy/manager.ts';
import { profileSchema } from '../../shared/profile.ts';

/*
 * The dashboard in a real browser against the real engine, wired the way
 * `kafka-websocket-proxy --dashboard 127.0.0.1:0 --demo` wires it: a memory
 * repository seeded with the demo profile, the engine's TunnelManager, the
 * ControlService and startDashboard. Someone creates a profile in the page,
 * starts it, KafkaJS produces through it, and the page shows the traffic.
 */

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');

const ROOT = resolve(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test', 'artifacts');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let staticDir: string;
let browser: Browser;
let manager: TunnelManager;
let service: ControlService;
let dashboard: Dashboard;
let broker: DemoBroker;

beforeAll(async () => {
  // Built here, into a directory of its own, so the test never serves a stale
  // dist/renderer nor races another build of it.
  staticDir = await mkdtemp(join(tmpdir(), 'dashboard-build-'));
  await build({ root: join(ROOT, 'renderer'), configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir: staticDir, emptyOutDir: true } });
  await mkdir(ARTIFACTS, { recursive: true });

  broker = await startDemoBroker();
  manager = createEngine();
  // The same seed as the CLI's --demo, on a free port instead of 9092.
  const demo = profileSchema.parse({ id: 'demo', name: 'Demo broker (built-in)', broker: 'localhost:8787', demoBroker: true, listenPort: 0 });
  service = new ControlService({
    repository: new MemoryProfileRepository([demo]),
    manager,
    host: 'dashboard',
    version: '0.0.0-test',
    secretStorage: false,
    testConnection: testProfileConnection,
  });
  dashboard = await startDashboard({ host: '127.0.0.1', port: 0, service, staticDir });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  service?.dispose();
  await manager?.stopAll();
  await broker?.close();
  if (staticDir) await rm(staticDir, { recursive: true, force: true });
});

/** A page that fails the test on any script error or CSP violation. */
async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  return { page, problems };
}

/**
 * Light and dark captures of the whole pane. The pane scrolls inside the window,
 * so the window is made tall enough to hold it rather than using fullPage.
 */
async function screenshots(page: Page, name: string): Promise<void> {
  const viewport = page.viewportSize()!;
  const height = await page.locator('main').evaluate((el) => {
    el.scrollTop = 0;
    return el.scrollHeight;
  });
  await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    // The chart repaints its canvas for the new scheme on the next frame.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${colorScheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(viewport);
}

function numberIn(text: string | null): number {
  return Number((text ?? '').replace(/[^\d]/g, ''));
}

describe('headless dashboard in Chromium', () => {
  it('refuses a page without the right token', async () => {
    const { page } = await openPage();
    const wrong = await page.goto(`http://127.0.0.1:${dashboard.port}/?token=${'x'.repeat(32)}`);
    expect(wrong?.status()).toBe(401);
    expect(await page.textContent('h1')).toBe('Access token needed');
    const none = await page.goto(`http://127.0.0.1:${dashboard.port}/`);
    expect(none?.status()).toBe(401);
    await page.close();
  });

  it('creates a profile, starts it, and shows KafkaJS traffic through it live', async () => {
    const { page, problems } = await openPage();
    await page.goto(dashboard.url);
    // The token leaves the address bar once the page has it.
    await expect.poll(() => page.url()).toBe(`http://127.0.0.1:${dashboard.port}/`);
    await page.getByRole('switch', { name: 'Tunnel Demo broker (built-in)' }).waitFor();

    // Create a profile through the editor, pointing at a broker by URL.
    await page.getByRole('button', { name: 'New profile' }).click();
    // Saving an empty form shows what is missing, in the page, before any request.
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Name is required').waitFor();
    await page.getByText('Broker address is required').waitFor();
    await screenshots(page, 'dashboard-editor-invalid');
    await page.getByLabel('Name', { exact: true }).fill('E2E tunnel');
    await page.getByLabel('Broker address').fill(broker.url);
    await page.getByLabel('Port', { exact: true }).fill('0');
    await screenshots(page, 'dashboard-editor');
    await page.getByRole('button', { name: 'Test connection' }).click();
    const tested = page.getByTestId('test-result');
    await expect.poll(() => tested.textContent(), { timeout: 15_000 }).toMatch(/Connected in \d+ ms/);
    expect(await tested.textContent()).toContain('test-topic');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'E2E tunnel' }).waitFor();

    // Start it from the sidebar switch.
    const toggle = page.getByRole('switch', { name: 'Tunnel E2E tunnel' });
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('true');
    await expect.poll(() => page.getByTestId('bootstrap-address').textContent()).toMatch(/^localhost:\d+$/);
    const port = Number((await page.getByTestId('bootstrap-address').textContent())!.split(':')[1]);
    expect(port).toBeGreaterThan(0);

    // Real KafkaJS traffic through the tunnel the page started.
    const kafka = new Kafka({ clientId: 'dashboard-e2e', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    // One send is one Produce request, however many messages it carries.
    let sends = 0;
    const produce = async () => {
      await producer.send({ topic: 'test-topic', messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `dashboard message ${sends}.${i} `.repeat(20) })) });
      sends += 1;
    };
    try {
      const produceRow = page.locator('tr[data-api="Produce"] td').first();
      const toBrokerCard = page.getByRole('group', { name: 'Client → broker' });
      // Keep traffic flowing until the once-a-second stats catch it mid-stream.
      await expect
        .poll(
          async () => {
            await produce();
            const rate = await toBrokerCard.locator('.card-value').textContent();
            return rate !== null && rate !== '0 B/s' && rate !== '—';
          },
          { timeout: 20_000, interval: 200 },
        )
        .toBe(true);
      const sendsSoFar = sends;
      await expect.poll(async () => numberIn(await produceRow.textContent()), { timeout: 10_000 }).toBeGreaterThanOrEqual(sendsSoFar);

      const connections = page.getByRole('group', { name: 'Connections' });
      await expect.poll(async () => (await connections.textContent()) ?? '').toMatch(/Connections[1-9]\d* active/);
      await expect.poll(async () => (await page.getByRole('table', { name: 'Client connections' }).textContent()) ?? '').toContain('127.0.0.1:');
      await expect.poll(async () => (await page.getByRole('list', { name: 'Event log' }).textContent()) ?? '').toMatch(/127\.0\.0\.1/);

      // The chart drew samples: uPlot's canvas is there and the empty note is gone.
      expect(await page.locator('[data-testid="throughput-chart"] canvas').count()).toBeGreaterThan(0);
      await expect.poll(() => page.locator('.chart-empty').count()).toBe(0);
      expect(await page.locator('.legend-value').first().textContent()).toMatch(/\/s$/);

      // Let a few more samples land so the screenshots show a line, not a dot.
      for (let i = 0; i < 6; i++) {
        await produce();
        await page.waitForTimeout(500);
      }
      await screenshots(page, 'dashboard');
    } finally {
      await producer.disconnect();
    }

    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('false');
    await expect.poll(() => page.getByRole('group', { name: 'State' }).textContent()).toContain('Stopped');
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it('opens on the host\'s recent throughput, and exports and imports profiles from the sidebar', async () => {
    // The tunnel from the previous test is stopped: no push can add a sample, so
    // whatever the chart draws in a fresh page came from 'tunnels:history'.
    const { page, problems } = await openPage();
    await page.goto(dashboard.url);
    await page.getByRole('button', { name: /E2E tunnel/ }).click();
    await page.getByRole('heading', { level: 1, name: 'E2E tunnel' }).waitFor();
    expect(await page.getByRole('group', { name: 'State' }).textContent()).toContain('Stopped');
    await expect.poll(() => page.locator('.chart-empty').count()).toBe(0);
    expect(await page.locator('.legend-value').first().textContent()).toMatch(/\/s$/);

    // Export: secrets stay out by default; the host's JSON arrives as a download.
    await page.getByRole('button', { name: 'Export profiles…' }).click();
    const secrets = page.getByRole('checkbox', { name: /Include secret header values/ });
    expect(await secrets.isChecked()).toBe(false);
    await secrets.check();
    await page.getByText(/tokens and passwords in plain text/).waitFor();
    await screenshots(page, 'dashboard-export');
    await secrets.uncheck();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export', exact: true }).click()]);
    expect(download.suggestedFilename()).toBe('kafka-tunnels-profiles.json');
    const exported = await readFile((await download.path())!, 'utf8');
    const names = (JSON.parse(exported) as { profiles: { name: string }[] }).profiles.map((p) => p.name);
    expect(names).toEqual(['Demo broker (built-in)', 'E2E tunnel']);
    await page.getByText('2 profiles saved to kafka-tunnels-profiles.json, without secret values.').waitFor();

    // Import the same file back: nothing is overwritten, both come in renamed.
    await page.getByTestId('import-file').setInputFiles({ name: 'kafka-tunnels-profiles.json', mimeType: 'application/json', buffer: Buffer.from(exported) });
    await page.getByText(/^Imported 2 profiles \(2 renamed: demo -> demo-2, .+ -> .+-2\)$/).waitFor();
    await expect.poll(() => page.locator('.profile-item').count()).toBe(4);
    await screenshots(page, 'dashboard-history');

    // A file that is not an export gets the host's sentence.
    await page.getByTestId('import-file').setInputFiles({ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{not json') });
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^The file is not valid JSON/);
    expect(await page.locator('.profile-item').count()).toBe(4);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
