import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import { openSession, type NewSession, type SessionKind, type SessionMeta } from '../auth/sessions.js';
import { hashToken } from '../auth/tokens.js';
import {
  emailInOtherOrganisation, insertPerson, linkOidcSubject, oidcSubjectOf, personByEmail, personBySubject, type Person,
} from '../people/people.js';
import type { OidcClients } from './provider-client.js';
import { loadSignInSettings, type SignInSettings } from './settings.js';

/** How long a started sign-in may take at the provider. */
const LOGIN_TTL_MINUTES = 10;
/** How long the web app has to exchange the handoff for a session after the callback. */
const HANDOFF_TTL_SECONDS = 120;

export const OIDC_SQL = {
  forget: "DELETE FROM oidc_logins WHERE expires_at < now() - interval '1 day'",
  insert: `
    INSERT INTO oidc_logins (state_hash, organisation_id, nonce, code_verifier, session_kind, expires_at)
    VALUES ($1, $2, $3, $4, $5, now() + make_interval(mins => $6))`,
  // The callback is taken once: a replayed or second answer to the same sign-in finds nothing.
  takeCallback: `
    UPDATE oidc_logins SET callback_at = now()
     WHERE state_hash = $1 AND callback_at IS NULL AND expires_at > now()
    RETURNING organisation_id AS "organisationId", nonce, code_verifier AS "codeVerifier"`,
  accept: `
    UPDATE oidc_logins SET person_id = $2, handoff_hash = $3, handoff_expires_at = now() + make_interval(secs => $4)
     WHERE state_hash = $1`,
  takeHandoff: `
    UPDATE oidc_logins SET used_at = now()
     WHERE handoff_hash = $1 AND used_at IS NULL AND handoff_expires_at > now()
    RETURNING person_id AS "personId", session_kind AS "kind"`,
  personActive: 'SELECT active FROM people WHERE id = $1',
} as const;

export const callbackUrl = (config: Config): string | null =>
  config.PUBLIC_URL ? `${config.PUBLIC_URL.replace(/\/$/, '')}/api/v1/auth/oidc/callback` : null;

async function enabledSettings(db: Db, config: Config, organisationId: string): Promise<SignInSettings & { redirectUri: string }> {
  const settings = await loadSignInSettings(db, organisationId);
  const redirectUri = callbackUrl(config);
  if (!settings?.oidcEnabled || !redirectUri) throw new AppError('oidc_not_configured');
  return { ...settings, redirectUri };
}

/**
 * Starts a sign-in at the organisation's provider: authorization code flow with PKCE (S256), a
 * state and a nonce, all kept in Postgres so that the callback may land on any node.
 */
export async function startSignIn(db: Db, clients: OidcClients, config: Config, organisationId: string, kind: SessionKind): Promise<URL> {
  const settings = await enabledSettings(db, config, organisationId);
  const provider = await clients.configuration(settings);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const verifier = client.randomPKCECodeVerifier();
  await db.query(OIDC_SQL.forget);
  await db.query(OIDC_SQL.insert, [hashToken(state), organisationId, nonce, verifier, kind, LOGIN_TTL_MINUTES]);
  return client.buildAuthorizationUrl(provider, {
    redirect_uri: settings.redirectUri,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
}

/** openid-client's refusals in the error catalogue's words. */
function providerRefusal(err: unknown): AppError {
  if (err instanceof AppError) return err;
  // openid-client wraps oauth4webapi's error, whose cause names the claim that did not match.
  const e = err as { code?: string; cause?: { claim?: string; cause?: { claim?: string } } };
  const claim = e.cause?.claim ?? e.cause?.cause?.claim;
  if (e.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' && claim === 'nonce') return new AppError('oidc_nonce_mismatch');
  if (e.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' || e.code === 'OAUTH_RESPONSE_BODY_ERROR' || e.code === 'OAUTH_AUTHORIZATION_RESPONSE_ERROR'
    || (typeof e.code === 'string' && e.code.startsWith('OAUTH_'))) {
    return new AppError('oidc_failed');
  }
  return new AppError('oidc_provider_unavailable');
}

interface Claims { sub: string; email: string | null; name: string | null }

/**
 * Who the provider says signed in: the ID token's subject, and the e-mail address and name from the
 * ID token or, where it has none (providers following the spec's default for the code flow), from
 * the userinfo endpoint for the same subject. An address the provider says is unverified is not used.
 */
async function claimsOf(provider: client.Configuration, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): Promise<Claims> {
  const idToken = tokens.claims();
  if (!idToken) throw new AppError('oidc_failed');
  let source: Record<string, unknown> = idToken;
  if (typeof idToken.email !== 'string' && tokens.access_token) {
    source = { ...await client.fetchUserInfo(provider, tokens.access_token, idToken.sub), ...idToken };
  }
  const email = typeof source.email === 'string' && source.email_verified !== false ? source.email.trim().toLowerCase() : null;
  const name = typeof source.name === 'string' && source.name.trim() ? source.name.trim().slice(0, 200) : null;
  return { sub: idToken.sub, email: email && email.length <= 254 ? email : null, name };
}

/**
 * The provider's answer: the state must be one this service started and not yet answered; the code
 * is exchanged with the PKCE verifier and the ID token checked (signature, issuer, audience, nonce).
 * The person is found by the provider's subject, else by e-mail address within the organisation
 * (whose subject is then stored); an unknown person gets an account only if the organisation allows
 * it. Answers a one-time handoff the web app exchanges for a session.
 */
export async function handleCallback(db: Db, clients: OidcClients, config: Config, query: URLSearchParams, requestId: string): Promise<string> {
  const state = query.get('state');
  if (!state) throw new AppError('oidc_state_invalid');
  const stateHash = hashToken(state);
  const login = (await db.query<{ organisationId: string; nonce: string; codeVerifier: string }>(OIDC_SQL.takeCallback, [stateHash])).rows[0];
  if (!login) throw new AppError('oidc_state_invalid');
  const settings = await enabledSettings(db, config, login.organisationId);
  const provider = await clients.configuration(settings);
  let claims: Claims;
  try {
    const tokens = await client.authorizationCodeGrant(provider, new URL(`${settings.redirectUri}?${query.toString()}`), {
      pkceCodeVerifier: login.codeVerifier, expectedState: state, expectedNonce: login.nonce, idTokenExpected: true,
    });
    claims = await claimsOf(provider, tokens);
  } catch (err) {
    throw providerRefusal(err);
  }
  const handoff = randomBytes(32).toString('base64url');
  await inTransaction(db, async (tx) => {
    const person = await personFor(tx, settings, claims, requestId);
    if (!person.active) throw new AppError('account_deactivated');
    await tx.query(OIDC_SQL.accept, [stateHash, person.id, hashToken(handoff), HANDOFF_TTL_SECONDS]);
  });
  return handoff;
}

async function personFor(tx: Parameters<Parameters<typeof inTransaction>[1]>[0], settings: SignInSettings, claims: Claims, requestId: string): Promise<Person> {
  const organisationId = settings.organisationId;
  const bySubject = await personBySubject(tx, organisationId, claims.sub);
  if (bySubject) return bySubject;
  if (claims.email) {
    const byEmail = await personByEmail(tx, organisationId, claims.email);
    if (byEmail) {
      const linked = await oidcSubjectOf(tx, byEmail.id);
      // The address matches, but the account already belongs to another identity at the provider.
      if (linked !== null) throw new AppError('oidc_subject_mismatch');
      if (byEmail.active) {
        await linkOidcSubject(tx, byEmail.id, claims.sub);
        await recordAudit(tx, {
          organisationId, actorPersonId: byEmail.id, action: 'person.oidc_linked',
          entityType: 'person', entityId: byEmail.id, before: null, after: { name: byEmail.name, siteIds: byEmail.siteIds }, requestId,
        });
      }
      return byEmail;
    }
    if (await emailInOtherOrganisation(tx, claims.email, organisationId)) {
      throw new AppError('oidc_other_organisation');
    }
  }
  if (!settings.createAccounts || !claims.email) throw new AppError('oidc_no_account');
  return insertPerson(tx, null, organisationId, {
    name: claims.name ?? claims.email, email: claims.email, siteIds: [], roles: [{ role: 'staff', siteId: null }],
    passwordHash: null, oidcSubject: claims.sub,
  }, { action: 'person.created_by_sign_in', requestId });
}

/** The web app exchanges the one-time handoff for a session, once, within two minutes. */
export async function completeSignIn(db: Db, config: Config, handoff: string, meta: Omit<SessionMeta, 'kind'>): Promise<NewSession> {
  return inTransaction(db, async (tx) => {
    const taken = (await tx.query<{ personId: string; kind: SessionKind }>(OIDC_SQL.takeHandoff, [hashToken(handoff)])).rows[0];
    if (!taken) throw new AppError('oidc_state_invalid');
    const active = (await tx.query<{ active: boolean }>(OIDC_SQL.personActive, [taken.personId])).rows[0]?.active;
    if (!active) throw new AppError('account_deactivated');
    return openSession(tx, config, taken.personId, { ...meta, kind: taken.kind });
  });
}
