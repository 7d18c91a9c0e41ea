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
});
