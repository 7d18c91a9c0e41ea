import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { GC_FLAGS, missingGcFlags } from '../src/lib/gc-flags.js';
import { nodesOnOwnDatabase } from './helpers/nodes-on-own-database.js';

/** What a start command gives Node before it loads the app: the words between `node` and `--import`. */
function nodeFlagsOf(words: string[]): string[] {
  return words.slice(words.indexOf('node') + 1, words.indexOf('--import'));
}

describe("the garbage collector's flags a node runs with (ADR 041)", () => {
  const nodes = nodesOnOwnDatabase();

  it('npm start and the Dockerfile give Node the same flags, the ones the tests and benchmarks start their nodes with', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: { start: string } };
    const cmd = (await readFile('Dockerfile', 'utf8')).split('\n').find((line) => line.startsWith('CMD '));
    expect(cmd, 'the Dockerfile has a CMD').toBeDefined();
    expect(nodeFlagsOf(pkg.scripts.start.split(/\s+/))).toEqual([...GC_FLAGS]);
    expect(nodeFlagsOf(JSON.parse((cmd ?? '').slice('CMD '.length)) as string[])).toEqual([...GC_FLAGS]);
  });

  it('names the flags a command line lacks, whatever else it has', () => {
    expect(missingGcFlags(['--import', 'tsx'])).toEqual([...GC_FLAGS]);
    expect(missingGcFlags(['--inspect', ...GC_FLAGS])).toEqual([]);
    expect(missingGcFlags(['--no-memory-reducer'])).toEqual(['--heap-growing-percent=100']);
  });

  it('a node started without them says so at start, naming them, and starts all the same; one started with them says nothing', async () => {
    const env = { DATABASE_URL: nodes.url(), SEED_DEMO: 'false' };
    const [without, withFlags] = await Promise.all([nodes.start(env, { gcFlags: false }), nodes.start(env)]);
    const warning = without.output().split('\n').find((line) => line.includes('ADR 041'));
    expect(warning, without.output()).toBeDefined();
    expect(JSON.parse(warning ?? '{}')).toMatchObject({ level: 40, missing: [...GC_FLAGS] });
    expect((await fetch(`${without.url}/readyz`)).status).toBe(200);
    expect(withFlags.output()).not.toContain('ADR 041');
  }, 120_000);
});
