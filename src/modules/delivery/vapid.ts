import webpush from 'web-push';
import type { Config } from '../../config/config.js';
import type { Queryable } from '../../db/pool.js';

const VAPID_SQL = {
  // Nodes starting together each make a pair; the first insert wins and every node reads that one.
  insert: 'INSERT INTO vapid_keys (public_key, private_key) VALUES ($1, $2) ON CONFLICT (singleton) DO NOTHING',
  select: 'SELECT public_key AS "publicKey", private_key AS "privateKey" FROM vapid_keys',
} as const;

/**
 * The server's VAPID key pair: from configuration, or made on first start and kept in Postgres so
 * every node signs with the same key (subscriptions are bound to it; changing it orphans them all).
 */
export async function vapidKeys(db: Queryable, config: Config): Promise<{ publicKey: string; privateKey: string }> {
  if (config.VAPID_PUBLIC_KEY && config.VAPID_PRIVATE_KEY) {
    return { publicKey: config.VAPID_PUBLIC_KEY, privateKey: config.VAPID_PRIVATE_KEY };
  }
  const made = webpush.generateVAPIDKeys();
  await db.query(VAPID_SQL.insert, [made.publicKey, made.privateKey]);
  const row = (await db.query<{ publicKey: string; privateKey: string }>(VAPID_SQL.select)).rows[0];
  if (!row) throw new Error('VAPID keys could not be stored');
  return row;
}
