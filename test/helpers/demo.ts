import { DEMO } from '../../src/seed/demo.js';

/** The demo people by the names the tests and docs use ("rektor", "anna"), from the seed itself. */
export const DEMO_EMAIL: Readonly<Record<string, string>> = Object.fromEntries(DEMO.flatMap((o) => o.people.map((p) => [p.key, p.email])));

/** A demo person's name as the tests call them. */
export type Who =
  | 'admin' | 'rektor' | 'kris' | 'anna' | 'bertil' | 'cecilia' | 'solrosRektor' | 'frida' | 'klara' | 'bo' | 'lisa' | 'system';

export function demoEmail(who: Who): string {
  const email = DEMO_EMAIL[who];
  if (!email) throw new Error(`no demo person "${who}" in src/seed/demo.ts`);
  return email;
}
