/**
 * What a node asks of V8's garbage collector (ADR 041). A node holding thousands of idle devices moves a steady
 * trickle of Socket.IO's ping garbage into the old generation. With V8's defaults it then runs a major collection
 * about every 17 s, and one more whenever it looks idle, only to give memory back; a raise or a fan-out that comes
 * while one is marking waits for it. These flags let the old generation grow to twice what the last collection
 * left before the next one, and keep V8 from collecting only to shrink the heap: major collections during alarms
 * become rare, for a heap up to twice as large between collections.
 *
 * V8 takes them from the command line only (it sets up the heap before any code runs): `npm start` and the
 * Dockerfile pass them, as test and bench nodes do (test/helpers/nodes.ts), and a node started without them says
 * so at start.
 */
export const GC_FLAGS = ['--no-memory-reducer', '--heap-growing-percent=100'] as const;

/** The flags of GC_FLAGS this process was started without. */
export function missingGcFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return GC_FLAGS.filter((flag) => !execArgv.includes(flag));
}
