// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShimError } from '../../../shared/errors.ts';
import type { Profile } from '../../../shared/profile.ts';
import { FakeApi, makeProfile, textFile } from '../testing/fake-api.ts';
import { EXPORT_FILE_NAME, ProfileTransfer, describeImport } from './ProfileTransfer.tsx';

/** What the page handed to the browser to save: jsdom has no object URLs, so they are recorded here. */
let downloads: { fileName: string; blob: Blob }[];
let blobs: Map<string, Blob>;

beforeEach(() => {
  downloads = [];
  blobs = new Map();
  let n = 0;
  URL.createObjectURL = (blob: Blob) => {
    const url = `blob:test/${++n}`;
    blobs.set(url, blob);
    return url;
  };
  URL.revokeObjectURL = (url: string) => void blobs.delete(url);
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    downloads.push({ fileName: this.download, blob: blobs.get(this.href)! });
  });
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const EXPORTED = `${JSON.stringify({ version: 1, profiles: [makeProfile(), makeProfile({ id: 'bravo', name: 'Bravo' })] }, null, 2)}\n`;

function setup(api: FakeApi) {
  const imported: Profile[][] = [];
  render(<ProfileTransfer api={api} onImported={(list) => imported.push(list)} />);
  return { imported };
}

/** jsdom's Blob has no text(); its FileReader reads one. */
function readBlob(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error);
    reader.readAsText(blob);
  });
}

async function chooseFile(content: string, name = 'profiles.json') {
  await act(async () => {
    fireEvent.change(screen.getByTestId('import-file'), { target: { files: [textFile(name, content)] } });
  });
}

describe('ProfileTransfer', () => {
  it('exports without secrets unless asked, and saves the host’s JSON as kafka-tunnels-profiles.json', async () => {
    const api = new FakeApi().handle('profiles:export', () => EXPORTED);
    setup(api);
    const open = screen.getByRole('button', { name: 'Export profiles…' });
    expect(open.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(open);
    expect(open.getAttribute('aria-expanded')).toBe('true');
    const secrets = screen.getByRole('checkbox', { name: /Include secret header values/ });
    expect((secrets as HTMLInputElement).checked).toBe(false);
    expect(document.activeElement).toBe(secrets);
    expect(screen.queryByRole('alert')).toBeNull();

    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Export' }));
    });
    expect(api.callsTo('profiles:export')).toEqual([[{ includeSecrets: false }]]);
    expect(downloads.map((d) => d.fileName)).toEqual([EXPORT_FILE_NAME]);
    expect(downloads[0].blob.type).toBe('application/json');
    expect(await readBlob(downloads[0].blob)).toBe(EXPORTED);
    expect(screen.getByRole('status').textContent).toContain(`2 profiles saved to ${EXPORT_FILE_NAME}, without secret values.`);
    // The panel closes and focus goes back where it came from.
    expect(screen.queryByRole('group', { name: 'Export profiles' })).toBeNull();
    expect(document.activeElement).toBe(open);
  });

  it('warns before exporting secret values, and forgets the choice for the next export', async () => {
    const api = new FakeApi().handle('profiles:export', () => EXPORTED);
    setup(api);
    fireEvent.click(screen.getByRole('button', { name: 'Export profiles…' }));
    fireEvent.click(screen.getByRole('checkbox', { name: /Include secret header values/ }));
    expect(screen.getByRole('alert').textContent).toMatch(/tokens and passwords in plain text/);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Export with secrets' }));
    });
    expect(api.callsTo('profiles:export')).toEqual([[{ includeSecrets: true }]]);
    expect(screen.getByRole('status').textContent).toContain('with secret values');

    fireEvent.click(screen.getByRole('button', { name: 'Export profiles…' }));
    expect((screen.getByRole('checkbox', { name: /Include secret header values/ }) as HTMLInputElement).checked).toBe(false);
  });

  it('closes the export panel with Escape, without exporting', () => {
    const api = new FakeApi();
    setup(api);
    const open = screen.getByRole('button', { name: 'Export profiles…' });
    fireEvent.click(open);
    fireEvent.keyDown(screen.getByRole('checkbox', { name: /Include secret header values/ }), { key: 'Escape' });
    expect(screen.queryByRole('group', { name: 'Export profiles' })).toBeNull();
    expect(document.activeElement).toBe(open);
    expect(api.calls).toEqual([]);
  });

  it('imports the chosen file, says what was renamed, and hands the new list over', async () => {
    const list = [makeProfile(), makeProfile({ id: 'alpha-2', name: 'Alpha' }), makeProfile({ id: 'bravo', name: 'Bravo' }), makeProfile({ id: 'charlie', name: 'Charlie' })];
    const api = new FakeApi()
      .handle('profiles:import', () => ({ imported: 3, renamed: [{ from: 'alpha', to: 'alpha-2' }] }))
      .handle('profiles:list', () => list);
    const { imported } = setup(api);
    const picker = screen.getByTestId('import-file') as HTMLInputElement;
    expect(picker.accept).toContain('.json');
    const click = vi.spyOn(picker, 'click').mockImplementation(() => undefined);
    fireEvent.click(screen.getByRole('button', { name: 'Import profiles…' }));
    expect(click).toHaveBeenCalledOnce();

    await chooseFile(EXPORTED);
    expect(api.callsTo('profiles:import')).toEqual([[EXPORTED]]);
    expect(screen.getByRole('status').textContent).toContain('Imported 3 profiles (1 renamed: alpha -> alpha-2)');
    expect(imported).toEqual([list]);
    expect(picker.value).toBe('');

    fireEvent.click(screen.getByRole('button', { name: 'Dismiss message' }));
    expect(screen.getByRole('status').textContent).toBe('');
  });

  it('shows the host’s own sentence when the file is refused, and imports nothing', async () => {
    const message = 'The file is not a valid profile export: profiles.0.broker: Broker address is required';
    const api = new FakeApi().handle('profiles:import', () => {
      throw new ShimError('IMPORT_FAILED', message);
    });
    const { imported } = setup(api);
    await chooseFile('{"profiles":[{"id":"x"}]}');
    expect(screen.getByRole('alert').textContent).toContain(message);
    expect(imported).toEqual([]);
    expect(api.callsTo('profiles:list')).toEqual([]);
  });

  it('refuses a file far too large to be an export without sending it', async () => {
    const api = new FakeApi();
    setup(api);
    await chooseFile('x'.repeat(5 * 1024 * 1024 + 1), 'huge.json');
    expect(screen.getByRole('alert').textContent).toContain('huge.json is too large to be a profile export (over 5 MB).');
    expect(api.calls).toEqual([]);
  });
});

describe('describeImport', () => {
  it('counts profiles and lists every rename', () => {
    expect(describeImport({ imported: 1, renamed: [] })).toBe('Imported 1 profile');
    expect(describeImport({ imported: 2, renamed: [{ from: 'a', to: 'a-2' }, { from: 'b', to: 'b-3' }] })).toBe('Imported 2 profiles (2 renamed: a -> a-2, b -> b-3)');
    expect(describeImport({ imported: 0, renamed: [] })).toBe('The file held no profiles; nothing was imported.');
  });
});
