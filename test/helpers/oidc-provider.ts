import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { fileURLToPath } from 'node:url';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { freePort } from './services.js';

/** The test certificate (localhost, 127.0.0.1) the provider serves with: the app trusts it through OIDC_CA_FILE. */
export const OIDC_PROVIDER_CA = fileURLToPath(new URL('../fixtures/push-service.crt', import.meta.url));
const KEY = fileURLToPath(new URL('../fixtures/push-service.key', import.meta.url));

export interface OidcAccount { email?: string; email_verified?: boolean; name?: string }

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

/**
 * A real OpenID provider (the `oidc-provider` package, certified) over HTTPS on loopback, with the
 * push service's test certificate (trusted by the app through OIDC_CA_FILE). Its development
 * sign-in page takes any login: the login is the account id (the subject), looked up in `accounts`.
 * Accounts whose id starts with "slow-code-" get authorization codes that expire after 2 seconds.
 */
export async function startOidcProvider(redirectUri: string, accounts: Record<string, OidcAccount>): Promise<TestOidcProvider> {
  const port = await freePort();
  const issuer = `https://localhost:${port}`;
  const clientId = 'samlarm-test';
  const clientSecret = 'samlarm-test-secret-0123456789';
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri],
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
    }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    scopes: ['openid', 'email', 'profile'],
    findAccount: (_ctx: KoaContextWithOIDC, id: string) => {
      const account = accounts[id];
      return account ? { accountId: id, claims: () => ({ sub: id, ...account }) } : undefined;
    },
    ttl: {
      AuthorizationCode: (_ctx: KoaContextWithOIDC, code: { accountId?: string }) => (code.accountId?.startsWith('slow-code-') ? 2 : 60),
    },
    // No consent page: the municipality's own application is trusted.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const accountId = ctx.oidc.session?.accountId;
      const clientOfRequest = ctx.oidc.client?.clientId;
      if (!accountId || !clientOfRequest) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: clientOfRequest, accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
    cookies: { keys: ['samlarm-test-cookie-key'] },
    features: { devInteractions: { enabled: true } },
  });
  // The development warnings (in-memory adapter, dev keys, dev interactions) are what a test provider is.
  provider.on('server_error', () => undefined);
  const server: Server = createServer({ cert: readFileSync(OIDC_PROVIDER_CA), key: readFileSync(KEY) }, provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer, clientId, clientSecret,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
