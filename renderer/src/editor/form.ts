import {
  DEFAULT_LISTEN_HOST,
  findPortConflicts,
  profileSchema,
  type ApiVersionRange,
  type CompatibilityMode,
  type Profile,
  type ProfileInput,
} from '../../../shared/profile.ts';

/**
 * The profile editor's form state and its validation. Inputs hold text; this
 * turns them into a ProfileInput and checks it with the SAME zod schema main
 * uses (shared/profile.ts), so the form and the host can never disagree.
 */

export interface HeaderRow {
  /** Stable React key; not part of the profile. */
  key: string;
  name: string;
  value: string;
  secret: boolean;
  /** A secret value is stored for this header; an empty input keeps it. */
  valueSet: boolean;
}

export interface ProfileForm {
  id: string;
  isNew: boolean;
  name: string;
  broker: string;
  tls: boolean;
  demoBroker: boolean;
  listenHost: string;
  listenPort: string;
  advertise: string;
  headers: HeaderRow[];
  tlsVerify: boolean;
  caFile: string;
  httpProxy: string;
  kafkaAware: boolean;
  compatibility: CompatibilityMode;
  autoStart: boolean;
  connectTimeoutMs: string;
  connectRetries: string;
  keepaliveMs: string;
  /** The profile being edited: settings this form does not show are saved as they were. */
  base: Profile | null;
  /** Not editable here, but kept so saving does not drop it. */
  legacyApiVersions?: ApiVersionRange[];
  retryDelayMs: number;
  maxFrameBytes: number;
}

/** Field path ("listenPort", "headers.0.name") -> sentence. */
export type FieldErrors = Record<string, string>;

export interface FormCheck {
  /** Present when the form is valid and may be saved. */
  input: ProfileInput | null;
  errors: FieldErrors;
  /** Name of another profile on the same port, if any. */
  portConflict: string | null;
}

let rowCounter = 0;
export function headerRow(partial: Partial<Omit<HeaderRow, 'key'>> = {}): HeaderRow {
  rowCounter += 1;
  return { key: `h${rowCounter}`, name: '', value: '', secret: false, valueSet: false, ...partial };
}

/** A short random id; profile ids only need to be unique and URL-safe. */
export function newProfileId(): string {
  const bytes = new Uint8Array(4);
  crypto.getRandomValues(bytes);
  return `p-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Suggests the first port from 9092 up that no other profile uses. */
export function suggestPort(others: readonly Pick<Profile, 'listenPort'>[]): number {
  const used = new Set(others.map((p) => p.listenPort));
  let port = 9092;
  while (used.has(port)) port += 1;
  return port;
}

export function emptyForm(others: readonly Profile[]): ProfileForm {
  const d = profileSchema.parse({ id: 'x', name: 'x', broker: 'x:1' });
  return {
    id: newProfileId(),
    isNew: true,
    base: null,
    name: '',
    broker: '',
    tls: true,
    demoBroker: false,
    listenHost: DEFAULT_LISTEN_HOST,
    listenPort: String(suggestPort(others)),
    advertise: '',
    headers: [],
    tlsVerify: d.tlsVerify,
    caFile: '',
    httpProxy: '',
    kafkaAware: d.kafkaAware,
    compatibility: d.compatibility,
    autoStart: false,
    connectTimeoutMs: String(d.connectTimeoutMs),
    connectRetries: String(d.connectRetries),
    keepaliveMs: String(d.keepaliveMs),
    retryDelayMs: d.retryDelayMs,
    maxFrameBytes: d.maxFrameBytes,
  };
}

/** The form for an existing (redacted) profile: secret values are never shown. */
export function formFromProfile(p: Profile): ProfileForm {
  return {
    id: p.id,
    isNew: false,
    base: p,
    name: p.name,
    broker: p.broker,
    tls: p.tls,
    demoBroker: p.demoBroker,
    listenHost: p.listenHost,
    listenPort: String(p.listenPort),
    advertise: p.advertise ?? '',
    headers: p.headers.map((h) =>
      headerRow({ name: h.name, value: h.secret ? '' : (h.value ?? ''), secret: h.secret, valueSet: h.secret && (h.valueSet ?? false) }),
    ),
    tlsVerify: p.tlsVerify,
    caFile: p.caFile ?? '',
    httpProxy: p.httpProxy ?? '',
    kafkaAware: p.kafkaAware,
    compatibility: p.compatibility,
    autoStart: p.autoStart,
    connectTimeoutMs: String(p.connectTimeoutMs),
    connectRetries: String(p.connectRetries),
    keepaliveMs: String(p.keepaliveMs),
    legacyApiVersions: p.legacyApiVersions,
    retryDelayMs: p.retryDelayMs,
    maxFrameBytes: p.maxFrameBytes,
  };
}

const optional = (text: string) => (text.trim() === '' ? undefined : text.trim());

/** Whole numbers only; a number field left empty takes the schema's default. */
function integer(text: string, field: string, label: string, errors: FieldErrors): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (!/^\d+$/.test(t)) {
    errors[field] = `${label} must be a whole number`;
    return undefined;
  }
  return Number(t);
}

/** The schema wants a broker even for demo profiles, which ignore it; `.invalid` never resolves. */
const DEMO_PLACEHOLDER_BROKER = 'demo.invalid:443';

export function toProfileInput(form: ProfileForm, errors: FieldErrors = {}): ProfileInput {
  return {
    ...form.base,
    id: form.id,
    name: form.name,
    broker: form.demoBroker && form.broker.trim() === '' ? DEMO_PLACEHOLDER_BROKER : form.broker,
    tls: form.tls,
    demoBroker: form.demoBroker,
    listenHost: form.listenHost.trim() === '' ? undefined : form.listenHost,
    listenPort: integer(form.listenPort, 'listenPort', 'Port', errors),
    advertise: optional(form.advertise),
    headers: form.headers.map((h) => {
      // An empty secret input with a stored value means "keep what is stored".
      const keep = h.secret && h.valueSet && h.value === '';
      return keep ? { name: h.name, secret: true } : { name: h.name, value: h.value, secret: h.secret };
    }),
    tlsVerify: form.tlsVerify,
    caFile: optional(form.caFile),
    httpProxy: optional(form.httpProxy),
    kafkaAware: form.kafkaAware,
    compatibility: form.compatibility,
    legacyApiVersions: form.legacyApiVersions,
    autoStart: form.autoStart,
    connectTimeoutMs: integer(form.connectTimeoutMs, 'connectTimeoutMs', 'Connect timeout', errors),
    connectRetries: integer(form.connectRetries, 'connectRetries', 'Retries', errors),
    retryDelayMs: form.retryDelayMs,
    keepaliveMs: integer(form.keepaliveMs, 'keepaliveMs', 'Keepalive interval', errors),
    maxFrameBytes: form.maxFrameBytes,
  };
}

/**
 * Validates the form as main will, plus what only the page can see before
 * saving: a port another profile already uses, a new secret left empty.
 */
export function checkForm(form: ProfileForm, others: readonly Profile[]): FormCheck {
  const errors: FieldErrors = {};
  const input = toProfileInput(form, errors);
  const result = profileSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.join('.');
      errors[path] ??= issue.message;
    }
  }
  form.headers.forEach((h, i) => {
    if (h.secret && !h.valueSet && h.value === '') errors[`headers.${i}.value`] ??= 'Enter the secret value';
  });
  // Checked on its own, so the clash shows even while other fields are unfinished.
  const port = typeof input.listenPort === 'number' ? input.listenPort : null;
  let portConflict: string | null = null;
  if (port !== null && port <= 65535) {
    const self = { id: form.id, name: form.name, listenHost: form.listenHost.trim() || DEFAULT_LISTEN_HOST, listenPort: port };
    portConflict = findPortConflicts([...others.filter((o) => o.id !== form.id), self]).get(form.id) ?? null;
    if (portConflict !== null) errors.listenPort ??= `Port ${port} is already used by “${portConflict}”`;
  }
  return { input: Object.keys(errors).length === 0 ? input : null, errors, portConflict };
}
