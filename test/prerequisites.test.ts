import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, DEJAVU, NGINX, installPrefix, manualInstructions, missingPackages } from '../scripts/test-prerequisites.js';

const SCRIPT = path.resolve('scripts/test-prerequisites.ts');

/** `npm test` on a fresh machine (issue 14): it installs what the tests lack, or says exactly what to run. */
describe('test prerequisites', () => {
  let bin: string;
  beforeAll(async () => {
    bin = await mkdtemp(path.join(os.tmpdir(), 'samlarm-prereq-'));
  });
  afterAll(() => rm(bin, { recursive: true, force: true }));

  const script = async (name: string, body: string) => {
    await writeFile(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    await chmod(path.join(bin, name), 0o755);
  };
  /** Runs the real script with only `bin` on PATH: no redis-server there, unless a (fake) apt-get puts one in. */
  const runScript = () => spawnSync(process.execPath, ['--import', 'tsx', SCRIPT], {
    env: { PATH: bin, HOME: os.tmpdir() }, encoding: 'utf8',
  });

  it('names exactly the packages this machine lacks', () => {
    const everything = { env: {}, onPath: () => true, exists: () => true };
    expect(missingPackages(everything)).toEqual([]);
    expect(missingPackages({ ...everything, onPath: () => false })).toEqual(['redis-server']);
    expect(missingPackages({ ...everything, onPath: () => false, env: { REDIS_URL: 'redis://127.0.0.1:6379' } })).toEqual([]);
    expect(missingPackages({ env: {}, onPath: () => false, exists: () => false })).toEqual(['redis-server', 'chromium', 'fonts-dejavu-core', 'nginx']);
    expect(missingPackages({ ...everything, exists: (f: string) => f !== DEJAVU })).toEqual(['fonts-dejavu-core']);
    expect(missingPackages({ ...everything, exists: (f: string) => f !== CHROMIUM })).toEqual(['chromium']);
    expect(missingPackages({ ...everything, exists: (f: string) => f !== NGINX })).toEqual(['nginx']);
  });

  it('installs with apt-get as root, with sudo -n where sudo needs no password, and not at all otherwise', () => {
    expect(installPrefix({ uid: 0, hasAptGet: true, passwordlessSudo: () => false })).toEqual([]);
    expect(installPrefix({ uid: 1000, hasAptGet: true, passwordlessSudo: () => true })).toEqual(['sudo', '-n']);
    expect(installPrefix({ uid: 1000, hasAptGet: true, passwordlessSudo: () => false })).toBeNull();
    expect(installPrefix({ uid: 0, hasAptGet: false, passwordlessSudo: () => true })).toBeNull();
  });

  it('where it cannot install, it gives the exact command', () => {
    expect(manualInstructions(['redis-server', 'chromium'], { hasAptGet: true, platform: 'linux' }))
      .toEqual(['sudo apt-get update && sudo apt-get install -y --no-install-recommends redis-server chromium']);
    expect(manualInstructions(['redis-server'], { hasAptGet: false, platform: 'darwin' })[0]).toMatch(/^brew install redis/);
    expect(manualInstructions(['nginx'], { hasAptGet: false, platform: 'darwin' })).toEqual([
      "the proxy test needs Debian's nginx at /usr/sbin/nginx: run the tests on Debian or Ubuntu (apt-get install nginx)",
    ]);
  });

  it('the real script installs a missing redis-server with apt-get, then lets the tests run', async () => {
    const log = path.join(bin, 'apt.log');
    // A stand-in for apt-get that records its calls and "installs" redis-server into the same folder.
    await script('apt-get', `echo "$DEBIAN_FRONTEND $*" >> "${log}"\ncase "$*" in *install*redis-server*) printf '#!/bin/sh\\n' > "${bin}/redis-server"; /bin/chmod +x "${bin}/redis-server";; esac`);
    await script('sudo', 'shift\nPATH="$PATH:/usr/bin:/bin" exec "$@"');
    const result = runScript();
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(calls[0]).toBe('noninteractive update -qq');
    expect(calls[1]).toMatch(/^noninteractive install -y -qq --no-install-recommends redis-server$/);
    // Installed now: a second run does nothing.
    const again = runScript();
    expect(again.status).toBe(0);
    expect((await readFile(log, 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('the real script stops at once with the command to run when it cannot install', async () => {
    await rm(bin, { recursive: true, force: true });
    bin = await mkdtemp(path.join(os.tmpdir(), 'samlarm-prereq-'));
    const result = runScript();
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/redis-server is missing/);
    expect(result.stderr).toMatch(/REDIS_URL=redis:\/\/host:port npm test|brew install redis/);
  });
});
