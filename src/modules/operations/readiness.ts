import type { Redis } from 'ioredis';
import type { Db } from '../../db/pool.js';

export type Part = 'postgres' | 'redis';

export interface Readiness {
  ready: boolean;
  draining: boolean;
  checks: Partial<Record<Part, { ok: boolean; error?: string; ms: number }>>;
}

const CHECK_TIMEOUT_MS = 2000;

async function timed(check: () => Promise<unknown>): Promise<{ ok: boolean; error?: string; ms: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err), ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

/** Ready when Postgres (and Redis, when configured) answer, and the node is not draining. */
export async function checkReadiness(db: Db, redis: Redis | null, draining: boolean): Promise<Readiness> {
  const [postgres, redisCheck] = await Promise.all([
    timed(() => db.query('SELECT 1')),
    redis ? timed(() => redis.ping()) : Promise.resolve(undefined),
  ]);
  const checks: Readiness['checks'] = { postgres };
  if (redisCheck) checks.redis = redisCheck;
  return { ready: !draining && postgres.ok && (redisCheck?.ok ?? true), draining, checks };
}
