import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, trustProxySetting } from '../src/config/config.js';

describe('configuration', () => {
  it('with nothing set, runs on the embedded default with documented defaults', () => {
    const config = loadConfig({});
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.PORT).toBe(3000);
    expect(config.DEVICE_SESSION_TTL_DAYS).toBeGreaterThan(config.SESSION_TTL_DAYS);
    expect(config.MIGRATE_ON_START).toBe(true);
  });

  it('converts numbers and booleans from the environment', () => {
    const config = loadConfig({ PORT: '8080', MIGRATE_ON_START: 'false', DATABASE_POOL_MAX: '5' });
    expect(config).toMatchObject({ PORT: 8080, MIGRATE_ON_START: false, DATABASE_POOL_MAX: 5 });
  });

  it('names every invalid variable instead of starting with a wrong value', () => {
    const load = () => loadConfig({ PORT: '99999', LOG_LEVEL: 'loud', SEED_DEMO: 'yes' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/PORT.*LOG_LEVEL.*SEED_DEMO/);
  });

  it('refuses a VAPID public key without its private key (and the reverse) instead of signing with a key pair that does not match', () => {
    const publicKey = `B${'A'.repeat(86)}`;
    const privateKey = 'A'.repeat(43);
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: publicKey })).toThrow(ConfigError);
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: publicKey })).toThrow(/VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY/);
    expect(() => loadConfig({ VAPID_PRIVATE_KEY: privateKey })).toThrow(/VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY/);
    expect(loadConfig({ VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: privateKey })).toMatchObject({ VAPID_PUBLIC_KEY: publicKey });
  });

  it('takes a push claim lease shorter than a push request (claims are renewed while sending), but not one too short to renew', () => {
    expect(loadConfig({ PUSH_TIMEOUT_MS: '10000', PUSH_CLAIM_LEASE_MS: '3000' })).toMatchObject({ PUSH_TIMEOUT_MS: 10000, PUSH_CLAIM_LEASE_MS: 3000 });
    expect(() => loadConfig({ PUSH_CLAIM_LEASE_MS: '100' })).toThrow(/PUSH_CLAIM_LEASE_MS/);
  });

  it('ignores empty values and variables it does not know', () => {
    expect(loadConfig({ PORT: '', SOMETHING_ELSE: 'x' }).PORT).toBe(3000);
  });

  it('reads TRUST_PROXY as a flag, a hop count or a list of proxies', () => {
    expect(trustProxySetting('false')).toBe(false);
    expect(trustProxySetting('true')).toBe(true);
    expect(trustProxySetting('10.0.0.1, 10.0.0.2')).toEqual(['10.0.0.1', '10.0.0.2']);
    const hops = trustProxySetting('1') as (address: string, hop: number) => boolean;
    expect(hops('x', 0)).toBe(true);
    expect(hops('x', 1)).toBe(false);
  });

  it('bounds every wait on the database by default, the alarm path within a few seconds; a client timeout must outlast the server\'s', () => {
    const config = loadConfig({});
    expect(config.DATABASE_QUERY_TIMEOUT_MS).toBeGreaterThan(config.DATABASE_STATEMENT_TIMEOUT_MS);
    expect(config.DATABASE_ALARM_DEADLINE_MS).toBeLessThanOrEqual(5000);
    expect(config.DATABASE_CONNECT_TIMEOUT_MS).toBeLessThanOrEqual(config.DATABASE_ALARM_DEADLINE_MS);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '20000' })).toThrow(/DATABASE_QUERY_TIMEOUT_MS: must exceed DATABASE_STATEMENT_TIMEOUT_MS/);
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '1500', DATABASE_QUERY_TIMEOUT_MS: '2000' })).toMatchObject({ DATABASE_QUERY_TIMEOUT_MS: 2000 });
  });

  it('ends a transaction a stalled node left idle before an alarm queued behind its locks reaches its deadline', () => {
    const config = loadConfig({});
    expect(config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS).toBeLessThan(config.DATABASE_ALARM_DEADLINE_MS);
    expect(() => loadConfig({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '3000' })).toThrow(/DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: must be below DATABASE_ALARM_DEADLINE_MS/);
    expect(loadConfig({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '4000', DATABASE_ALARM_DEADLINE_MS: '5000' }))
      .toMatchObject({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: 4000 });
  });

  it('refuses a request timeout shorter than the header timeout, and a metrics token too short to be a secret', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(loadConfig({}).METRICS_TOKEN).toBeUndefined();
  });
});
