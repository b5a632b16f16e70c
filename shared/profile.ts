import { z } from 'zod';

/**
 * The broker profile: one tunnel's settings. Validated by this schema wherever a
 * profile enters — the app's store, IPC from the renderer, the CLI's config file,
 * an imported JSON file — and nowhere else.
 */

export const COMPATIBILITY_MODES = ['auto', 'legacy', 'passthrough'] as const;
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number];

export const DEFAULT_LISTEN_HOST = '127.0.0.1';
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024; // Kafka's socket.request.max.bytes

// RFC 9110 token characters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// The WebSocket handshake owns these; a profile may not override them.
const RESERVED_HEADERS = new Set([
  'host',
  'connection',
  'upgrade',
  'content-length',
  'transfer-encoding',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-accept',
]);

export const headerSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, 'Header name is required')
      .max(256)
      .regex(HEADER_NAME, 'Header name may contain only letters, digits and !#$%&\'*+.^_`|~-')
      .refine((n) => !RESERVED_HEADERS.has(n.toLowerCase()), {
        message: 'This header is set by the WebSocket handshake and cannot be overridden',
      }),
    /**
     * Absent only for a secret header coming back from the renderer, which never
     * sees secret values: absent means "keep the stored value".
     */
    value: z
      .string()
      .max(16 * 1024)
      .refine((v) => !/[\r\n\0]/.test(v), { message: 'Header value may not contain line breaks' })
      .optional(),
    secret: z.boolean().default(false),
    /** Set on redacted profiles: a secret value is stored, though not shown. */
    valueSet: z.boolean().optional(),
  })
  .strict();

export type HeaderSetting = z.infer<typeof headerSchema>;

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]@]+):(\d{1,5})$/;

export interface HostPort {
  host: string;
  port: number;
}

/** Parses "host:port" or "[v6]:port"; returns null when it is not one. */
export function parseHostPort(text: string): HostPort | null {
  const m = HOST_PORT.exec(text.trim());
  if (!m) return null;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return null;
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A listen address meaning "every interface". */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** 127.0.0.0/8, ::1 and localhost: addresses no other computer can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Where a client on this computer reaches a listener bound to `host`: loopback for a wildcard bind. */
export function reachableHost(host: string): string {
  if (host === '::') return '::1';
  return isWildcardHost(host) ? '127.0.0.1' : host;
}

/** What a person types into a client: "localhost:9092" for a listener on this computer. */
export function bootstrapAddress(listen: HostPort): string {
  return isLoopbackHost(listen.host) || isWildcardHost(listen.host) ? `localhost:${listen.port}` : formatHostPort(listen);
}

/** True when `text` is a ws:// or wss:// URL the bridge can dial. */
export function isWebSocketUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'ws:' || url.protocol === 'wss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const brokerSchema = z
  .string()
  .trim()
  .min(1, 'Broker address is required')
  .max(2048)
  .refine((b) => isWebSocketUrl(b) || parseHostPort(b) !== null, {
    message: 'Broker must be host:port (e.g. broker.example.com:443) or a ws:// or wss:// URL',
  });

const hostPortSchema = z
  .string()
  .trim()
  .refine((v) => parseHostPort(v) !== null, { message: 'Use HOST:PORT, for example localhost:9092' });

const httpProxySchema = z
  .string()
  .trim()
  .refine(
    (v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { message: 'Proxy must be an http:// or https:// URL' },
  );

export const apiVersionRangeSchema = z
  .object({
    apiKey: z.number().int().min(0).max(32767),
    minVersion: z.number().int().min(0).max(32767),
    maxVersion: z.number().int().min(0).max(32767),
  })
  .strict()
  .refine((r) => r.minVersion <= r.maxVersion, { message: 'minVersion must not exceed maxVersion' });

export type ApiVersionRange = z.infer<typeof apiVersionRangeSchema>;

export const profileSchema = z
  .object({
    id: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_-]+$/, 'Profile id may contain only letters, digits, _ and -'),
    name: z.string().trim().min(1, 'Name is required').max(80),
    /** host:port (the original proxy's -broker) or a full ws:// / wss:// URL. */
    broker: brokerSchema,
    /** With host:port: dial wss:// instead of ws:// (the original's -tls). */
    tls: z.boolean().default(false),
    /** Run the built-in demo broker and tunnel to it; `broker` is then ignored. */
    demoBroker: z.boolean().default(false),
    listenHost: z.string().trim().min(1).max(255).default(DEFAULT_LISTEN_HOST),
    listenPort: z.number().int().min(0, 'Port must be 0–65535').max(65535, 'Port must be 0–65535').default(9092),
    /** HOST:PORT clients are told to come back to; default the listen address. */
    advertise: hostPortSchema.optional(),
    headers: z.array(headerSchema).max(64).default([]),
    tlsVerify: z.boolean().default(true),
    caFile: z.string().trim().min(1).max(4096).optional(),
    /** Outbound HTTP(S) proxy; absent means HTTPS_PROXY / NO_PROXY from the environment. */
    httpProxy: httpProxySchema.optional(),
    /**
     * Read Kafka headers: per-API stats, address rewriting, ApiVersions answers.
     * Off, the tunnel forwards frames without looking inside them.
     */
    kafkaAware: z.boolean().default(true),
    compatibility: z.enum(COMPATIBILITY_MODES).default('auto'),
    /** ApiVersions answer for legacy brokers; absent means the built-in 0.8 table. */
    legacyApiVersions: z.array(apiVersionRangeSchema).max(100).optional(),
    autoStart: z.boolean().default(false),
    connectTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    connectRetries: z.number().int().min(1).max(20).default(5),
    retryDelayMs: z.number().int().min(0).max(60_000).default(200),
    keepaliveMs: z.number().int().min(0).max(600_000).default(30_000),
    maxFrameBytes: z.number().int().min(1024).max(1024 * 1024 * 1024).default(DEFAULT_MAX_FRAME_BYTES),
  })
  .strict()
  .superRefine((p, ctx) => {
    const names = new Set<string>();
    p.headers.forEach((h, i) => {
      const key = h.name.toLowerCase();
      if (names.has(key)) {
        ctx.addIssue({ code: 'custom', path: ['headers', i, 'name'], message: `Header ${h.name} appears twice` });
      }
      names.add(key);
    });
  });

/** A validated profile with every default filled in. */
export type Profile = z.output<typeof profileSchema>;
/** What a caller may send: defaults may be left out. */
export type ProfileInput = z.input<typeof profileSchema>;

/** The on-disk shape shared by the CLI's --config file and profile export. */
export const PROFILES_FILE_VERSION = 1;
export const profilesFileSchema = z
  .object({
    version: z.literal(PROFILES_FILE_VERSION).default(PROFILES_FILE_VERSION),
    profiles: z.array(profileSchema).max(256),
  })
  .strict()
  .superRefine((f, ctx) => {
    const ids = new Set<string>();
    f.profiles.forEach((p, i) => {
      if (ids.has(p.id)) ctx.addIssue({ code: 'custom', path: ['profiles', i, 'id'], message: `Duplicate profile id ${p.id}` });
      ids.add(p.id);
    });
  });
export type ProfilesFile = z.output<typeof profilesFileSchema>;

/** The ws:// or wss:// URL a profile dials (the demo broker's is decided at start). */
export function brokerUrl(profile: Pick<Profile, 'broker' | 'tls'>): string {
  if (isWebSocketUrl(profile.broker)) return profile.broker;
  const hp = parseHostPort(profile.broker);
  if (!hp) throw new Error(`Not a broker address: ${profile.broker}`);
  return `${profile.tls ? 'wss' : 'ws'}://${formatHostPort(hp)}/`;
}

/** Headers missing a value (a secret never resolved) are a configuration error. */
export function headersMissingValues(profile: Pick<Profile, 'headers'>): string[] {
  return profile.headers.filter((h) => h.value === undefined).map((h) => h.name);
}

/** A copy with secret values removed; the renderer and exports see only this. */
export function redactProfile(profile: Profile): Profile {
  return {
    ...profile,
    headers: profile.headers.map((h) =>
      h.secret ? { name: h.name, secret: true, valueSet: h.value !== undefined && h.value !== '' } : { ...h },
    ),
  };
}

/** Ports in use by more than one profile on overlapping hosts: `id -> other profile's name`. */
export function findPortConflicts(profiles: readonly Pick<Profile, 'id' | 'name' | 'listenHost' | 'listenPort'>[]): Map<string, string> {
  const conflicts = new Map<string, string>();
  for (const a of profiles) {
    if (a.listenPort === 0) continue;
    for (const b of profiles) {
      if (a.id === b.id || a.listenPort !== b.listenPort) continue;
      if (a.listenHost === b.listenHost || isWildcardHost(a.listenHost) || isWildcardHost(b.listenHost)) {
        conflicts.set(a.id, b.name);
      }
    }
  }
  return conflicts;
}

/** Sentences for a zod error, with the field path, for logs and API errors. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}
