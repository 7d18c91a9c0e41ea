/**
 * Reads V8 CPU profiles (`node --cpu-prof`) for windows of a run: how busy the processes were and the functions
 * that took the most of that time themselves (self time). Windows are in microseconds of the machine's monotonic
 * clock, `process.hrtime` in any process on the same machine: V8 stamps its samples with the same clock.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Heavy {
  /** The function, and where it is: a package and its file, a file of ours, or `native`. */
  fn: string;
  where: string;
  /** Per window. */
  self_ms: number;
  /** Of the busy time in the windows. */
  share: number;
}

export interface WindowProfile {
  /** The windows' mean length. */
  window_ms: number;
  /** Per window, of all the processes together. */
  busy_ms: number;
  heaviest: Heavy[];
}

export interface Window {
  fromUs: number;
  toUs: number;
}

/**
 * The main thread's profile of each process that wrote one into `dir`. `--cpu-prof` names a profile
 * CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile, and a process started with `--import tsx` has a
 * second thread, the module loader's hooks, whose profile is of no interest: the main thread is thread 0.
 */
export async function readProfilesIn(dir: string): Promise<CpuProfile[]> {
  const files = (await readdir(dir)).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f));
  if (files.length === 0) throw new Error(`no main thread's .cpuprofile in ${dir}`);
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as CpuProfile));
}

/**
 * Several processes' profiles over several windows (the rounds of a phase), per window: the processes' busy time
 * together and their heaviest functions. `(idle)` is an event loop waiting; everything else, `(program)` and
 * `(garbage collector)` included, is busy.
 */
export function profileWindows(profiles: CpuProfile[], windows: Window[], top = 10): WindowProfile {
  const self = new Map<string, { fn: string; where: string; us: number }>();
  let busyUs = 0;
  for (const profile of profiles) {
    const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    let at = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      const delta = profile.timeDeltas[i] ?? 0;
      at += delta;
      if (!windows.some((w) => at >= w.fromUs && at <= w.toUs)) continue;
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
  }
  const count = Math.max(1, windows.length);
  const ms = (us: number) => Math.round(us / count / 100) / 10;
  const heaviest = [...self.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => ({
    fn: e.fn, where: e.where, self_ms: ms(e.us), share: Math.round((e.us / Math.max(1, busyUs)) * 1000) / 1000,
  }));
  const windowUs = windows.reduce((sum, w) => sum + w.toUs - w.fromUs, 0);
  return { window_ms: Math.round(windowUs / count / 1000), busy_ms: Math.round(busyUs / count / 1000), heaviest };
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
