/**
 * Errors that cross IPC or the browser bridge. Electron keeps only `message` of a
 * thrown Error, so errors are serialised on purpose: name, code, message.
 */

export type ErrorCode =
  | 'INVALID_PROFILE'
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'PORT_IN_USE'
  | 'PORT_ACCESS_DENIED'
  | 'ADDRESS_NOT_AVAILABLE'
  | 'PORT_CONFLICT'
  | 'SECRET_MISSING'
  | 'SECRETS_UNAVAILABLE'
  | 'IMPORT_FAILED'
  | 'UNAUTHORIZED'
  | 'NOT_AVAILABLE'
  | 'BUSY'
  | 'DISCONNECTED'
  | 'INTERNAL';

export interface SerializedError {
  name: string;
  code: string;
  message: string;
}

export class ShimError extends Error {
  readonly code: string;
  constructor(code: ErrorCode | string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ShimError';
    this.code = code;
  }
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const raw = (err as Error & { code?: unknown }).code;
    const code = typeof raw === 'string' ? raw : 'INTERNAL';
    return { name: err.name, code, message: err.message };
  }
  return { name: 'Error', code: 'INTERNAL', message: String(err) };
}

export function isSerializedError(value: unknown): value is SerializedError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SerializedError).code === 'string' &&
    typeof (value as SerializedError).message === 'string'
  );
}

export function deserializeError(e: SerializedError): ShimError {
  const err = new ShimError(e.code, e.message);
  err.name = e.name;
  return err;
}
