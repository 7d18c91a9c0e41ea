import { ApiError, NetworkError } from './errors.ts';
import { storedToken } from './session.ts';

export { ApiError, NetworkError } from './errors.ts';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

let onUnauthenticated: () => void = () => undefined;
export const setUnauthenticatedHandler = (handler: () => void): void => {
  onUnauthenticated = handler;
};
/** A request made outside api() (a press) met an ended session. */
export const reportUnauthenticated = (): void => onUnauthenticated();

export interface ApiOptions {
  auth?: boolean;
  /** Give up waiting after this long (a frozen server answers nothing): a NetworkError, which is transient. */
  timeoutMs?: number;
}

export async function api<T>(method: Method, path: string, body?: unknown, options: ApiOptions = {}): Promise<T> {
  const token = storedToken();
  const headers: Record<string, string> = {};
  if (options.auth !== false && token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const signal = options.timeoutMs === undefined ? null : AbortSignal.timeout(options.timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? null : JSON.stringify(body), cache: 'no-store', signal });
    text = await res.text();
  } catch (err) {
    throw new NetworkError(err instanceof Error ? err.message : 'network error');
  }
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
