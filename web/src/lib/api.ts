import { storedToken } from './session.ts';

/** An error answer from the API: branch on `code` (src/lib/errors.ts), never on the message. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

/** The request never got an answer (offline, server down): distinct from an error answer. */
export class NetworkError extends Error {}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

let onUnauthenticated: () => void = () => undefined;
export const setUnauthenticatedHandler = (handler: () => void): void => {
  onUnauthenticated = handler;
};

export async function api<T>(method: Method, path: string, body?: unknown, options: { auth?: boolean } = {}): Promise<T> {
  const token = storedToken();
  const headers: Record<string, string> = {};
  if (options.auth !== false && token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? null : JSON.stringify(body), cache: 'no-store' });
  } catch (err) {
    throw new NetworkError(err instanceof Error ? err.message : 'network error');
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const e = (parsed ?? {}) as { code?: string; message?: string; details?: unknown };
    const error = new ApiError(res.status, e.code ?? `http_${res.status}`, e.message ?? res.statusText, e.details);
    if (error.code === 'unauthenticated' && options.auth !== false) onUnauthenticated();
    throw error;
  }
  return parsed as T;
}

/** True when the endpoint is not there (yet): a newer server feature the app tolerates missing. */
export const isMissing = (err: unknown): boolean => err instanceof ApiError && err.status === 404;
