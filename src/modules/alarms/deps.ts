import type { Config } from '../../config/config.js';
import type { LinkedCounts, SMS_STATES } from '../../contract/alarms.js';
import type { Db, Queryable } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import type { Log } from '../../lib/log.js';
import type { AlarmPipeline } from './pipeline.js';

/** What Web Push did for one recipient: devices pushed to, when a push service first accepted one, reminders; and the alarm's SMS. */
export interface PushProgress {
  devices: number;
  acceptedAt: Date | null;
  reminders: number;
  sms: { state: (typeof SMS_STATES)[number]; at: Date | null } | null;
}

/**
 * Where the roll call learns what Web Push did for each recipient. The delivery module owns the outbox
 * and provides it (delivery/plugin.ts); the alarm module only asks.
 */
export type PushProgressSource = (db: Queryable, incidentId: string) => Promise<Map<string, PushProgress>>;

/**
 * The sites a change at `siteId` may also change, because links join them (a raise there may raise
 * linked incidents; a source's all clear ends its linked incidents): locked with the site, in one order.
 * `incidentId`: the incident being changed, or null for a raise.
 */
export type LinkedSitesSource = (db: Queryable, siteId: string, incidentId: string | null) => Promise<string[]>;

/** What became of an incident at the organisations it crossed to: counts only, never names. */
export type LinkedCountsSource = (db: Queryable, incidentId: string) => Promise<LinkedCounts[]>;

/**
 * What the alarm core asks of the modules that plug into it (ADR 022): each registers its source with
 * `app.alarms.provide`; one that is missing stops the app when it is ready.
 */
export interface AlarmSources {
  /** delivery: what Web Push did for each recipient, for the roll call. */
  pushProgress: PushProgressSource;
  /** links: the linked sites locked with a change. */
  linkedSites: LinkedSitesSource;
  /** links: the linked organisations' counts, for the source's roll call. */
  linkedCounts: LinkedCountsSource;
}

/** What the alarm use cases need; built once by the alarm plugin (plugin.ts). */
export interface AlarmDeps {
  db: Db;
  config: Config;
  /** Time as the app sees it (tests inject their own): every event, press and escalation step is stamped with it. */
  clock: Clock;
  /** Every change is written and followed up through it. */
  pipeline: AlarmPipeline;
  /** What other modules provide. */
  sources: AlarmSources;
  log: Log;
}
