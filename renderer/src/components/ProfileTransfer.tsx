import { useEffect, useRef, useState, type ChangeEvent, type KeyboardEvent } from 'react';
import type { ImportResult, KafkaTunnelsApi } from '../../../shared/api.ts';
import type { Profile } from '../../../shared/profile.ts';
import { downloadText } from '../download.ts';
import { plural } from '../../../shared/format.ts';

/**
 * "Export profiles…" and "Import profiles…" in the sidebar footer. The host does the
 * work ('profiles:export', 'profiles:import'): it redacts secrets unless asked, and
 * validates and renames on import; this only moves the file and says what happened.
 */

export const EXPORT_FILE_NAME = 'kafka-tunnels-profiles.json';

/**
 * The host refuses anything larger with a sentence of its own (proxy/control/
 * profile-transfer.ts); checking here as well spares the page reading a huge file.
 */
const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

export interface ProfileTransferProps {
  api: KafkaTunnelsApi;
  /** The host's list after an import, so the sidebar shows it without waiting for the push. */
  onImported: (profiles: Profile[]) => void;
}

type Message = { kind: 'ok' | 'error'; text: string };

/** "Imported 3 profiles (1 renamed: prod -> prod-2)" */
export function describeImport(result: ImportResult): string {
  if (result.imported === 0) return 'The file held no profiles; nothing was imported.';
  const renamed = result.renamed.length > 0 ? ` (${result.renamed.length} renamed: ${result.renamed.map((r) => `${r.from} -> ${r.to}`).join(', ')})` : '';
  return `Imported ${plural(result.imported, 'profile')}${renamed}`;
}

function profileCount(json: string): number | null {
  try {
    const profiles = (JSON.parse(json) as { profiles?: unknown }).profiles;
    return Array.isArray(profiles) ? profiles.length : null;
  } catch {
    return null;
  }
}

export function ProfileTransfer({ api, onImported }: ProfileTransferProps) {
  const [exporting, setExporting] = useState(false);
  const [includeSecrets, setIncludeSecrets] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Message | null>(null);
  const exportButton = useRef<HTMLButtonElement>(null);
  const firstControl = useRef<HTMLInputElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const wasOpen = useRef(false);

  // Focus follows the panel: into it when it opens, back to its button when it closes.
  useEffect(() => {
    if (exporting) firstControl.current?.focus();
    else if (wasOpen.current) exportButton.current?.focus();
    wasOpen.current = exporting;
  }, [exporting]);

  const openExport = () => {
    setMessage(null);
    // Secrets are never the default, not even after the last export included them.
    setIncludeSecrets(false);
    setExporting(true);
  };

  const runExport = async () => {
    setBusy(true);
    try {
      const json = await api.invoke('profiles:export', { includeSecrets });
      downloadText(EXPORT_FILE_NAME, json);
      const count = profileCount(json);
      const what = count === null ? 'Profiles' : plural(count, 'profile');
      setMessage({ kind: 'ok', text: `${what} saved to ${EXPORT_FILE_NAME}, ${includeSecrets ? 'with secret values' : 'without secret values'}.` });
      setExporting(false);
    } catch (err) {
      setMessage({ kind: 'error', text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const chooseFile = () => {
    setMessage(null);
    setExporting(false);
    fileInput.current?.click();
  };

  const runImport = async (event: ChangeEvent<HTMLInputElement>) => {
    const input = event.currentTarget;
    const file = input.files?.[0];
    if (!file) return;
    setBusy(true);
    try {
      if (file.size > MAX_IMPORT_BYTES) throw new Error(`${file.name} is too large to be a profile export (over 5 MB).`);
      const result = await api.invoke('profiles:import', await file.text());
      setMessage({ kind: 'ok', text: describeImport(result) });
      onImported(await api.invoke('profiles:list'));
    } catch (err) {
      setMessage({ kind: 'error', text: (err as Error).message });
    } finally {
      // The same file can be chosen again after fixing it.
      input.value = '';
      setBusy(false);
    }
  };

  const onPanelKey = (event: KeyboardEvent) => {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    setExporting(false);
  };

  return (
    <div className="transfer">
      <div className="transfer-actions">
        <button type="button" ref={exportButton} className="btn btn-small" aria-expanded={exporting} aria-controls="export-panel" disabled={busy} onClick={() => (exporting ? setExporting(false) : openExport())}>
          Export profiles…
        </button>
        <button type="button" className="btn btn-small" disabled={busy} onClick={chooseFile}>
          Import profiles…
        </button>
        <input ref={fileInput} type="file" accept=".json,application/json" hidden aria-label="Profiles file to import" onChange={(e) => void runImport(e)} data-testid="import-file" />
      </div>

      {exporting && (
        <div id="export-panel" className="transfer-panel" role="group" aria-labelledby="export-title" onKeyDown={onPanelKey}>
          <strong id="export-title">Export profiles</strong>
          <label className="check">
            <input ref={firstControl} type="checkbox" checked={includeSecrets} onChange={(e) => setIncludeSecrets(e.target.checked)} />
            <span>
              Include secret header values
              <span className="check-hint">Off: secret headers are kept by name, to be filled in again after an import.</span>
            </span>
          </label>
          {includeSecrets && (
            <p className="transfer-warning" role="alert">
              The file will hold tokens and passwords in plain text. Anyone who gets it can reach your brokers; keep it private and delete it
              when done.
            </p>
          )}
          <div className="transfer-buttons">
            <button type="button" className="btn btn-small btn-primary" disabled={busy} onClick={() => void runExport()}>
              {includeSecrets ? 'Export with secrets' : 'Export'}
            </button>
            <button type="button" className="btn btn-small" onClick={() => setExporting(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}

      {/* Mounted before it has anything to say: screen readers announce changes to a live region, not its arrival. */}
      <div role="status">{message?.kind === 'ok' && <MessageBox message={message} onDismiss={() => setMessage(null)} />}</div>
      {message?.kind === 'error' && (
        <div role="alert">
          <MessageBox message={message} onDismiss={() => setMessage(null)} />
        </div>
      )}
    </div>
  );
}

function MessageBox({ message, onDismiss }: { message: Message; onDismiss: () => void }) {
  return (
    <div className={`transfer-message transfer-${message.kind}`}>
      <span>{message.text}</span>
      <button type="button" className="btn-close" aria-label="Dismiss message" onClick={onDismiss}>
        ×
      </button>
    </div>
  );
}
