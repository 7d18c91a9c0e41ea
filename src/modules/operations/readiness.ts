import type { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../../db/pool.js';

export type Part = 'postgres' | 'redis';

export interface Readiness {
  /** The node can take traffic: Postgres answers and it is not draining. */
  ready: boolean;
  draining: boolean;
  /** Parts that fail without making the node useless (Redis): reported, never a reason to leave the balancer. */
  degraded: Part[];
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

/**
 * Ready when Postgres answers and the node is not draining (ADR 029). Without Redis a node still
 * raises and delivers to its own devices (other nodes' devices catch up once Redis is back), so a
 * Redis outage only degrades it: taking every node out of the balancer would stop every alarm.
 */
export async function checkReadiness(db: Db, redis: Redis | null, draining: boolean): Promise<Readiness> {
  const [postgres, redisCheck] = await Promise.all([
    timed(() => db.query('SELECT 1')),
    redis ? timed(() => redis.ping()) : Promise.resolve(undefined),
  ]);
  const checks: Readiness['checks'] = { postgres };
  if (redisCheck) checks.redis = redisCheck;
  return { ready: !draining && postgres.ok, draining, degraded: redisCheck && !redisCheck.ok ? ['redis'] : [], checks };
}

/** `samlarm_redis_up`: 1 while Redis answers, 0 while the node runs degraded without it (not served without REDIS_URL). */
export function registerRedisGauge(registry: Registry, redis: Redis | null): void {
  if (!redis) return;
  new Gauge({
    name: 'samlarm_redis_up',
    help: 'Redis answers this node (1) or not (0): without it the node still raises and delivers to its own devices',
    registers: [registry],
    async collect() {
      this.set((await timed(() => redis.ping())).ok ? 1 : 0);
    },
  });
}
