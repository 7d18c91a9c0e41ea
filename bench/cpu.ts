import { readdirSync, readFileSync } from 'node:fs';

/**
 * Where the machine's CPU goes during a phase of a benchmark (issue 15): the processor time of every process in
 * the benchmark's tree, by kind, read from Linux's /proc. On two shared cores a latency says little about whose
 * work it waited for; these figures say how much each part did. PostgreSQL's backends come and go (a pool closes
 * idle connections; autovacuum workers exit): a PostgreSQL process counts the time of its children that have
 * exited too, which is where Linux keeps it. Elsewhere than Linux: empty.
 */
export type CpuKind = 'nodes' | 'postgres' | 'redis' | 'clients' | 'baseline' | 'bench';
export type CpuTimes = Partial<Record<CpuKind, number>>;

/** /proc/<pid>/stat counts in clock ticks, 100 a second on Linux. */
const MS_PER_TICK = 10;

interface Proc { pid: number; ppid: number; ms: number; exitedChildrenMs: number }

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function stat(pid: number): Proc | null {
  const text = read(`/proc/${pid}/stat`);
  if (text === null) return null;
  // The command name is in parentheses and may hold spaces: the fields that follow are counted from its end.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    pid, ppid: Number(fields[1]), ms: (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK,
    exitedChildrenMs: (Number(fields[13]) + Number(fields[14])) * MS_PER_TICK,
  };
}

function kindOf(pid: number, root: number): CpuKind | null {
  if (pid === root) return 'bench';
  const command = (read(`/proc/${pid}/cmdline`) ?? '').split('\0');
  const program = command[0]?.split('/').at(-1) ?? '';
  if (program.startsWith('postgres')) return 'postgres';
  if (program.startsWith('redis-server')) return 'redis';
  if (command.some((a) => a.endsWith('src/server.ts'))) return 'nodes';
  if (command.some((a) => a.endsWith('client-process.ts'))) return 'clients';
  if (command.some((a) => a.endsWith('baseline-server.ts'))) return 'baseline';
  return null;
}

/** The processes under `root` (itself included) that are of a kind, with their /proc/<pid>/stat figures. */
function processTree(root: number): { proc: Proc; kind: CpuKind }[] {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return [];
  }
  const procs = pids.map(stat).filter((p) => p !== null);
  const children = new Map<number, Proc[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found: { proc: Proc; kind: CpuKind }[] = [];
  const self = procs.find((p) => p.pid === root);
  const queue = self ? [self] : [];
  for (let p = queue.shift(); p; p = queue.shift()) {
    const kind = kindOf(p.pid, root);
    if (kind) found.push({ proc: p, kind });
    queue.push(...(children.get(p.pid) ?? []));
  }
  return found;
}

function byKind(processes: { proc: Proc; kind: CpuKind }[], ms: (p: Proc, kind: CpuKind) => number): CpuTimes {
  const times: CpuTimes = {};
  for (const { proc, kind } of processes) times[kind] = (times[kind] ?? 0) + ms(proc, kind);
  return times;
}

/** The processor time used so far by the processes under `root`, by kind, in milliseconds. */
export function cpuNow(root = process.pid): CpuTimes {
  return byKind(processTree(root), (p, kind) => p.ms + (kind === 'postgres' ? p.exitedChildrenMs : 0));
}

/** Nanoseconds on a processor so far, summed over the process's threads, as the scheduler counts them. */
function threadsMs(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(read(`/proc/${pid}/task/${tid}/schedstat`)?.split(' ')[0] ?? 0);
  } catch {
    return 0;
  }
  return ns / 1e6;
}

/**
 * As `cpuNow`, from the scheduler's own count in nanoseconds (/proc/<pid>/task/<tid>/schedstat) rather than clock
 * ticks of 10 ms: precise enough for the window of one alarm. A process that exits takes its time along (it is not
 * counted in its parent's here): for windows in which none does.
 */
export function cpuNowPrecise(root = process.pid): CpuTimes {
  return byKind(processTree(root), (p) => threadsMs(p.pid));
}

/** Each kind's processor time from `before` to `after`, divided by `per` (e.g. milliseconds per alarm). */
export function cpuSpent(before: CpuTimes, after: CpuTimes, per = 1): CpuTimes {
  const spent: CpuTimes = {};
  for (const kind of Object.keys(after) as CpuKind[]) {
    spent[kind] = Math.round(((after[kind] ?? 0) - (before[kind] ?? 0)) / per);
  }
  return spent;
}
