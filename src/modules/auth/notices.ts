import type { Queryable } from '../../db/pool.js';
import type { Mailer } from '../../plugins/mail.js';

const NOTICE_SQL = {
  ownersOf: 'SELECT name, email, language FROM people WHERE email = $1 AND active',
} as const;

const TEXT = {
  sv: {
    subject: 'Samlarm: misslyckade inloggningar med din adress',
    body: (name: string, ip: string) => `Hej ${name}!\n\nNågon har försökt logga in i Samlarm med din e-postadress och fel lösenord flera gånger i rad, från adressen ${ip}. Försöken därifrån bromsas nu; du kan fortfarande logga in som vanligt.\n\nVar det inte du? Byt lösenord i Samlarm under Mitt konto och säg till din administratör.\n`,
  },
  en: {
    subject: 'Samlarm: failed sign-ins with your address',
    body: (name: string, ip: string) => `Hello ${name},\n\nSomeone has tried to sign in to Samlarm with your e-mail address and a wrong password several times in a row, from the address ${ip}. Tries from there are now slowed down; you can still sign in as usual.\n\nWas it not you? Change your password in Samlarm under My account and tell your administrator.\n`,
  },
} as const;

/**
 * Tells the owners of an address that a client's failures with it are being slowed down. Unknown
 * addresses get nothing (and the answer to the client is the same either way).
 */
export async function sendThrottleNotice(db: Queryable, mail: Mailer, email: string, ip: string): Promise<void> {
  if (!mail.enabled) return;
  const owners = (await db.query<{ name: string; email: string; language: 'sv' | 'en' }>(NOTICE_SQL.ownersOf, [email])).rows;
  for (const owner of owners) {
    const text = TEXT[owner.language];
    await mail.send({ to: owner.email, subject: text.subject, text: text.body(owner.name, ip) });
  }
}
