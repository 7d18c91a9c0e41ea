import { createECDH } from 'node:crypto';
import { AppError } from '../../lib/errors.js';

/**
 * Which push services the server may send to. A subscription names the URL the server will POST
 * to; without an allow-list any signed-in user could make the server call internal addresses
 * (169.254.169.254, the database's port…). Entries are host names; `*.example.com` matches any
 * subdomain of example.com (not example.com itself). Only https is accepted.
 */
export class PushHostAllowList {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(list: string) {
    for (const raw of list.split(',')) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      if (entry.startsWith('*.')) this.suffixes.push(entry.slice(1));
      else this.exact.add(entry);
    }
  }

  allows(hostname: string): boolean {
    const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
    return this.exact.has(host) || this.suffixes.some((suffix) => host.endsWith(suffix) && host.length > suffix.length);
  }

  /** The endpoint's origin (scheme://host:port) if it may be used; otherwise a 400 naming why. */
  check(endpoint: string): string {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new AppError('push_endpoint_not_allowed', { sv: 'Push-adressen är ingen URL.', en: 'The push endpoint is not a URL.' });
    }
    if (url.protocol !== 'https:') throw new AppError('push_endpoint_not_allowed', { sv: 'Push-adresser måste använda https.', en: 'Push endpoints must use https.' });
    if (url.username || url.password) throw new AppError('push_endpoint_not_allowed', { sv: 'Push-adresser får inte innehålla inloggningsuppgifter.', en: 'Push endpoints must not carry credentials.' });
    if (!this.allows(url.hostname)) {
      throw new AppError('push_endpoint_not_allowed', {
        sv: `Push-tjänsten ${url.hostname} finns inte på serverns lista över tillåtna.`,
        en: `Push service ${url.hostname} is not on this server's allow-list.`,
      });
    }
    return url.origin;
  }
}

const base64url = /^[A-Za-z0-9_-]+={0,2}$/;

/** A key that is not a point on the curve would make every push to the device fail; refused at the door. */
function onCurve(point: Buffer): boolean {
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    ecdh.computeSecret(point);
    return true;
  } catch {
    return false;
  }
}

/** The browser's keys of a subscription: a P-256 public point (65 bytes, uncompressed) and a 16-byte auth secret. */
export function checkSubscriptionKeys(keys: { p256dh: string; auth: string }): void {
  const decode = (value: string) => (base64url.test(value) ? Buffer.from(value, 'base64url') : Buffer.alloc(0));
  const p256dh = decode(keys.p256dh);
  if (p256dh.length !== 65 || p256dh[0] !== 4 || !onCurve(p256dh)) throw new AppError('validation_failed', { sv: 'keys.p256dh är ingen publik P-256-nyckel.', en: 'keys.p256dh is not a P-256 public key.' });
  if (decode(keys.auth).length !== 16) throw new AppError('validation_failed', { sv: 'keys.auth är ingen hemlighet på 16 byte.', en: 'keys.auth is not a 16-byte secret.' });
}
