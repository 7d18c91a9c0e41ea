import { describe, expect, it } from 'vitest';
import { nodesOnOwnDatabase } from './helpers/nodes-on-own-database.js';

/** A node at `url` with PostgreSQL's `wal_init_zero` set for its sessions as asked (the server's own value aside). */
function withWalInitZero(url: string, value: 'on' | 'off'): string {
  const withOption = new URL(url);
  withOption.searchParams.set('options', `-c wal_init_zero=${value}`);
  return withOption.toString();
}

describe('the PostgreSQL settings a node advises on at start (ADR 040)', () => {
  const nodes = nodesOnOwnDatabase();

  it('a node whose PostgreSQL zero-fills new WAL files says so at start, with the setting to change, and starts all the same', async () => {
    const [zeroFilling, notZeroFilling] = await Promise.all([
      nodes.start({ DATABASE_URL: withWalInitZero(nodes.url(), 'on'), SEED_DEMO: 'false' }),
      nodes.start({ DATABASE_URL: withWalInitZero(nodes.url(), 'off'), SEED_DEMO: 'false' }),
    ]);
    const warning = zeroFilling.output().split('\n').find((line) => line.includes('"setting":"wal_init_zero"'));
    expect(warning, zeroFilling.output()).toBeDefined();
    expect(JSON.parse(warning ?? '{}')).toMatchObject({ level: 40, setting: 'wal_init_zero', value: 'on' });
    expect((await fetch(`${zeroFilling.url}/readyz`)).status).toBe(200);
    expect(notZeroFilling.output()).not.toContain('wal_init_zero');
  }, 120_000);
});
