import type { Db, Queryable } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import { canManageSignIn, type Principal } from '../auth/policies.js';
import { visibleOrganisation } from '../organisations/organisations.js';

/** How an organisation's people sign in, as stored (the secret never leaves the server). */
export interface SignInSettings {
  organisationId: string;
  passwordSignIn: boolean;
  oidcEnabled: boolean;
  issuer: string | null;
  clientId: string | null;
  clientSecret: string | null;
  createAccounts: boolean;
}

/** What an admin sees: whether a secret is set, never the secret. */
export interface SignInSettingsView {
  passwordSignIn: boolean;
  oidc: { enabled: boolean; issuer: string | null; clientId: string | null; clientSecretSet: boolean; createAccounts: boolean };
}

export const SIGN_IN_SQL = {
  byOrganisation: `
    SELECT o.id AS "organisationId", coalesce(si.password_sign_in, true) AS "passwordSignIn",
           coalesce(si.oidc_enabled, false) AS "oidcEnabled", si.oidc_issuer AS issuer, si.oidc_client_id AS "clientId",
           si.oidc_client_secret AS "clientSecret", coalesce(si.oidc_create_accounts, false) AS "createAccounts"
      FROM organisations o LEFT JOIN organisation_sign_in si ON si.organisation_id = o.id
     WHERE o.id = $1`,
  lock: 'SELECT organisation_id FROM organisation_sign_in WHERE organisation_id = $1 FOR UPDATE',
  upsert: `
    INSERT INTO organisation_sign_in (organisation_id, password_sign_in, oidc_enabled, oidc_issuer, oidc_client_id, oidc_client_secret, oidc_create_accounts)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (organisation_id) DO UPDATE SET password_sign_in = $2, oidc_enabled = $3, oidc_issuer = $4, oidc_client_id = $5,
           oidc_client_secret = $6, oidc_create_accounts = $7, updated_at = now()`,
  // The sign-in page's buttons: organisations whose own sign-in is on.
  enabled: `
    SELECT o.id AS "organisationId", o.name
      FROM organisation_sign_in si JOIN organisations o ON o.id = si.organisation_id
     WHERE si.oidc_enabled
     ORDER BY o.name`,
} as const;

export async function loadSignInSettings(db: Queryable, organisationId: string): Promise<SignInSettings | null> {
  return (await db.query<SignInSettings>(SIGN_IN_SQL.byOrganisation, [organisationId])).rows[0] ?? null;
}

export const presentSettings = (s: SignInSettings): SignInSettingsView => ({
  passwordSignIn: s.passwordSignIn,
  oidc: { enabled: s.oidcEnabled, issuer: s.issuer, clientId: s.clientId, clientSecretSet: s.clientSecret !== null, createAccounts: s.createAccounts },
});

export async function readSignInSettings(db: Queryable, principal: Principal, organisationId: string): Promise<SignInSettingsView> {
  await visibleOrganisation(db, principal, organisationId);
  if (!canManageSignIn(principal, organisationId)) throw new AppError('forbidden');
  const settings = await loadSignInSettings(db, organisationId);
  if (!settings) throw new AppError('not_found');
  return presentSettings(settings);
}

export interface SignInSettingsInput {
  passwordSignIn: boolean;
  oidc: { enabled: boolean; issuer: string | null; clientId: string | null; clientSecret?: string | null; createAccounts: boolean };
}

/**
 * An organisation admin sets how its people sign in. Turning passwords off needs the organisation's
 * own sign-in on; organisation admins keep their password whatever is set here, so a broken provider
 * configuration cannot lock the organisation out.
 */
export async function updateSignInSettings(
  db: Db, principal: Principal, organisationId: string, input: SignInSettingsInput, requestId: string,
): Promise<SignInSettingsView> {
  return inTransaction(db, async (tx) => {
    await visibleOrganisation(tx, principal, organisationId, true);
    if (!canManageSignIn(principal, organisationId)) throw new AppError('forbidden');
    await tx.query(SIGN_IN_SQL.lock, [organisationId]);
    const before = await loadSignInSettings(tx, organisationId) as SignInSettings;
    // An omitted secret keeps the stored one; null removes it.
    const clientSecret = input.oidc.clientSecret === undefined ? before.clientSecret : input.oidc.clientSecret;
    if (input.oidc.enabled && (!input.oidc.issuer || !input.oidc.clientId || !clientSecret)) {
      throw new AppError('validation_failed', { sv: 'Inloggning med organisationens konton behöver en utfärdare (issuer), ett klient-id och en klienthemlighet.', en: 'Sign-in with the organisation\'s accounts needs an issuer, a client id and a client secret.' });
    }
    if (!input.passwordSignIn && !input.oidc.enabled) {
      throw new AppError('validation_failed', { sv: 'Slå på inloggning med organisationens konton innan du stänger av lösenord.', en: 'Turn on sign-in with the organisation\'s accounts before turning passwords off.' });
    }
    await tx.query(SIGN_IN_SQL.upsert, [
      organisationId, input.passwordSignIn, input.oidc.enabled, input.oidc.issuer, input.oidc.clientId, clientSecret, input.oidc.createAccounts,
    ]);
    const after = await loadSignInSettings(tx, organisationId) as SignInSettings;
    await recordAudit(tx, {
      organisationId, actorPersonId: principal.personId, action: 'organisation.sign_in_changed',
      entityType: 'organisation', entityId: organisationId, before: presentSettings(before), after: presentSettings(after), requestId,
    });
    return presentSettings(after);
  });
}

export async function enabledProviders(db: Queryable): Promise<{ organisationId: string; name: string }[]> {
  return (await db.query<{ organisationId: string; name: string }>(SIGN_IN_SQL.enabled)).rows;
}
