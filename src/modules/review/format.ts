/** How the review writes times and durations for people (PDF, CSV, prefilled text) and for CAP. */

/** Reports are read in Sweden: local time there, whatever the server's zone. */
export const REPORT_TIME_ZONE = 'Europe/Stockholm';

const parts = (d: Date) => Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
  timeZone: REPORT_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  hourCycle: 'h23', timeZoneName: 'longOffset',
}).formatToParts(d).map((p) => [p.type, p.value]));

/** 2025-03-12 10:41:07, Swedish local time. */
export function stockholmDateTime(d: Date): string {
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/**
 * CAP 1.2's date-time: local time with its offset, whole seconds, never "Z" (the schema's pattern is
 * \d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-,+]\d\d:\d\d; UTC would be written -00:00).
 */
export function capDateTime(d: Date): string {
  const p = parts(d);
  const offset = p.timeZoneName === 'GMT' ? '+00:00' : String(p.timeZoneName).replace('GMT', '');
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}`;
}

/** A duration in seconds with milliseconds, Swedish decimal comma: 3,215 s. */
export function seconds(ms: number | null): string {
  if (ms === null) return '–';
  return `${(ms / 1000).toFixed(3).replace('.', ',')} s`;
}
