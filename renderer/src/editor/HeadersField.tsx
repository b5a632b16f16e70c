import { useState } from 'react';
import { headerRow, type FieldErrors, type HeaderRow } from './form.ts';
import { fieldId } from './fields.tsx';

/**
 * Extra HTTP headers for the WebSocket handshake (auth tokens, API keys). A
 * secret header's value is masked, never sent back to the page once stored, and
 * left empty to keep the stored value.
 */
export function HeadersField({
  rows,
  errors,
  onChange,
}: {
  rows: HeaderRow[];
  errors: FieldErrors;
  onChange: (rows: HeaderRow[]) => void;
}) {
  const [revealed, setRevealed] = useState<ReadonlySet<string>>(new Set());
  const update = (key: string, patch: Partial<HeaderRow>) => onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const toggleReveal = (key: string) => {
    const next = new Set(revealed);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setRevealed(next);
  };

  return (
    <fieldset className="headers">
      <legend>Handshake headers</legend>
      {rows.length === 0 && <p className="field-hint">None. Add one for an Authorization header or an API key the broker expects.</p>}
      {rows.map((row, i) => {
        const nameError = errors[`headers.${i}.name`];
        const valueError = errors[`headers.${i}.value`];
        const nameId = fieldId(`headers.${i}.name`);
        const valueId = fieldId(`headers.${i}.value`);
        const masked = row.secret && !revealed.has(row.key);
        return (
          <div className="header-row" key={row.key} role="group" aria-label={`Header ${i + 1}`}>
            <div className="header-cell">
              <input
                id={nameId}
                aria-label={`Header ${i + 1} name`}
                placeholder="Name"
                value={row.name}
                aria-invalid={Boolean(nameError)}
                aria-describedby={nameError ? `${nameId}-error` : undefined}
                onChange={(e) => update(row.key, { name: e.target.value })}
                autoComplete="off"
                spellCheck={false}
              />
              {nameError && (
                <p className="field-error" id={`${nameId}-error`}>
                  {nameError}
                </p>
              )}
            </div>
            <div className="header-cell grow">
              <input
                id={valueId}
                aria-label={`Header ${i + 1} value`}
                type={masked ? 'password' : 'text'}
                placeholder={row.secret && row.valueSet ? 'Stored: leave empty to keep it' : 'Value'}
                value={row.value}
                aria-invalid={Boolean(valueError)}
                aria-describedby={valueError ? `${valueId}-error` : undefined}
                onChange={(e) => update(row.key, { value: e.target.value })}
                autoComplete="off"
                spellCheck={false}
              />
              {valueError && (
                <p className="field-error" id={`${valueId}-error`}>
                  {valueError}
                </p>
              )}
            </div>
            <label className="check compact">
              <input type="checkbox" checked={row.secret} onChange={(e) => update(row.key, { secret: e.target.checked })} />
              Secret
            </label>
            {row.secret && (
              <button type="button" className="btn btn-small btn-quiet" onClick={() => toggleReveal(row.key)} aria-pressed={!masked}>
                {masked ? 'Show' : 'Hide'}
              </button>
            )}
            <button
              type="button"
              className="btn btn-small btn-quiet"
              aria-label={`Remove header ${row.name || i + 1}`}
              onClick={() => onChange(rows.filter((r) => r.key !== row.key))}
            >
              Remove
            </button>
          </div>
        );
      })}
      <button type="button" className="btn btn-small" onClick={() => onChange([...rows, headerRow()])}>
        Add header
      </button>
    </fieldset>
  );
}
