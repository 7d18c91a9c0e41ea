/**
 * Reads a V8 CPU profile (`node --cpu-prof`) for one window of a run: how busy the process was and the functions
 * that took the most of that time themselves (self time). The window is in microseconds of the machine's monotonic
 * clock, `process.hrtime` in any process on the same machine: V8 stamps its samples with the same clock.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Heavy {
  /** The function, and where it is: a package and its file, a file of ours, or `native`. */
  fn: string;
  where: string;
  self_ms: number;
  /** Of the busy time in the window. */
  share: number;
}

export interface WindowProfile {
  window_ms: number;
  busy_ms: number;
  heaviest: Heavy[];
}

/** The one profile a process wrote into `dir` (each node is given a directory of its own). */
export async function readProfileIn(dir: string): Promise<CpuProfile> {
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  return JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile;
}

/** `(idle)` is the event loop waiting; everything else, `(program)` and `(garbage collector)` included, is busy. */
export function profileWindow(profile: CpuProfile, fromUs: number, toUs: number, top = 10): WindowProfile {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, { fn: string; where: string; us: number }>();
  let busyUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < fromUs || at > toUs) continue;
    const frame = frames.get(profile.samples[i] as number);
    if (!frame || frame.functionName === '(idle)') continue;
    busyUs += delta;
    const where = frame.url === '' ? 'native' : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const fn = frame.functionName || '(anonymous)';
    const key = `${fn} ${where}`;
    const entry = self.get(key) ?? { fn, where, us: 0 };
    entry.us += delta;
    self.set(key, entry);
  }
  const heaviest = [...self.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => ({
    fn: e.fn, where: e.where, self_ms: Math.round(e.us / 100) / 10, share: Math.round((e.us / Math.max(1, busyUs)) * 1000) / 1000,
  }));
  return { window_ms: Math.round((toUs - fromUs) / 1000), busy_ms: Math.round(busyUs / 1000), heaviest };
}

/** `file:///…/node_modules/pg/lib/connection.js` → `pg/lib/connection.js`; our own files from `src/`. */
function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

/** The monotonic clock the profiles are stamped with, in microseconds. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
