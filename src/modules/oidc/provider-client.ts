import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { fetch as undiciFetch, type Agent } from 'undici';
import { AppError } from '../../lib/errors.js';
import type { SignInSettings } from './settings.js';

/** How long a provider's discovered metadata (endpoints, keys' location) is reused. */
const DISCOVERY_TTL_MS = 10 * 60_000;
const TIMEOUT_SECONDS = 10;

/**
 * openid-client configurations per organisation's provider, discovered once and reused for a while.
 * Requests go through the node's outbound agent, which trusts OIDC_CA_FILE besides the system's CAs.
 */
export class OidcClients {
  private readonly cache = new Map<string, { config: client.Configuration; at: number }>();
  private readonly fetch: client.CustomFetch;

  constructor(agent: Agent) {
    this.fetch = ((url: string, options: client.CustomFetchOptions) =>
      undiciFetch(url, { ...options, dispatcher: agent } as Parameters<typeof undiciFetch>[1])) as unknown as client.CustomFetch;
  }

  async configuration(settings: SignInSettings): Promise<client.Configuration> {
    if (!settings.issuer || !settings.clientId || !settings.clientSecret) throw new AppError('oidc_not_configured');
    // Keyed by everything that makes the configuration, the secret hashed: a changed setting is discovered anew.
    const key = createHash('sha256').update(JSON.stringify([settings.issuer, settings.clientId, settings.clientSecret])).digest('base64url');
    const cached = this.cache.get(key);
    if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.config;
    let config: client.Configuration;
    try {
      config = await client.discovery(new URL(settings.issuer), settings.clientId, settings.clientSecret, undefined, {
        [client.customFetch]: this.fetch, timeout: TIMEOUT_SECONDS,
      });
    } catch (err) {
      throw new AppError('oidc_provider_unavailable', undefined, { reason: err instanceof Error ? err.message.slice(0, 200) : 'unknown' });
    }
    config.timeout = TIMEOUT_SECONDS;
    this.cache.set(key, { config, at: Date.now() });
    return config;
  }
}
