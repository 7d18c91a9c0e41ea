import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NGINX } from '../../scripts/test-prerequisites.js';
import { freePort } from './services.js';

/** The proxy configuration docker-compose.yml mounts: the test runs this file, not a copy of it. */
const DEPLOYED_CONF = path.resolve('deploy/nginx.conf');

export interface Proxy {
  url: string;
  /** What nginx wrote: its access log (to stdout, as in the compose file) and its error log. */
  output(): string;
  stop(): Promise<void>;
}

/** Replaces `pattern` in `text`, insisting it matched exactly `times` times: a reshaped deploy/nginx.conf fails loudly here. */
function substitute(text: string, pattern: RegExp, replace: (match: string, ...groups: string[]) => string, times: number): string {
  const every = new RegExp(pattern.source, `${pattern.flags}g`);
  const found = text.match(every)?.length ?? 0;
  if (found !== times) throw new Error(`deploy/nginx.conf: expected ${times} match(es) of ${pattern}, found ${found}`);
  return text.replace(every, replace);
}

/**
 * deploy/nginx.conf with only what differs on a test machine substituted: the upstream servers
 * (app1:3000, app2:3000 in the compose network) become the test's nodes on loopback; `listen 80`
 * (a privileged port) becomes a free loopback port; and the http block gets temp paths under `dir`,
 * because Debian's nginx is built with temp paths under /var/lib/nginx, which only root may write.
 * Everything else (headers, timeouts, upstream failover, the WebSocket upgrade) is the deployed file.
 */
export function renderConf(deployed: string, upstreamPorts: number[], listenPort: number, dir: string): string {
  let next = 0;
  let conf = substitute(deployed, /server app\d+:3000/, () => `server 127.0.0.1:${upstreamPorts[next++]}`, upstreamPorts.length);
  conf = substitute(conf, /listen 80( backlog=\d+)?;/, (_, backlog = '') => `listen 127.0.0.1:${listenPort}${backlog};`, 1);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${path.join(dir, kind)};`);
  return substitute(conf, /^http \{$/m, (match) => [match, ...temp].join('\n'), 1);
}

/**
 * Debian's nginx (/usr/sbin/nginx, installed by scripts/test-prerequisites.ts) running deploy/nginx.conf
 * in front of app nodes on these loopback ports, unprivileged, in the foreground, with everything it
 * writes in a temporary folder. Resolves once a request through it reaches a ready node.
 */
export async function startProxy(upstreamPorts: number[]): Promise<Proxy> {
  // A missing nginx fails the test, never skips it: the topology the compose file deploys stays tested.
  if (!existsSync(NGINX)) {
    throw new Error(`Debian's nginx is missing at ${NGINX}: \`npm test\` installs it (scripts/test-prerequisites.ts), or run: sudo apt-get install -y --no-install-recommends nginx`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'samlarm-nginx-'));
  // Run as root, nginx's workers run as "nobody" (the file sets no user): they must reach the temp paths.
  await chmod(dir, 0o755);
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  await writeFile(conf, renderConf(await readFile(DEPLOYED_CONF, 'utf8'), upstreamPorts, port, dir));
  // The file logs to /dev/stdout and /dev/stderr, which nginx opens by name: a socket (Node's 'pipe')
  // cannot be opened so, a file can.
  const log = path.join(dir, 'output.log');
  const logFd = openSync(log, 'a');
  // Main-context directives the file leaves to the host: the foreground, the pid file, the main error log. (Not
  // `-e stderr`, which nginx before 1.19.5 lacks: unprivileged, such an nginx only warns that it cannot open
  // the compiled-in /var/log/nginx/error.log before it reads this.)
  const child = spawn(NGINX, ['-p', dir, '-c', conf, '-g', `daemon off; pid ${path.join(dir, 'nginx.pid')}; error_log stderr;`], {
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const output = () => readFileSync(log, 'utf8');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const proxy: Proxy = {
    url,
    output,
    stop: async () => {
      // SIGTERM: nginx's fast shutdown, the master stops its workers and exits.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited at start:\n${output()}`);
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) return proxy;
    if (Date.now() > deadline) {
      const written = output();
      await proxy.stop();
      throw new Error(`nginx did not pass a request to a ready node within 30 s:\n${written}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
