import type { Config } from '../../config/config.js';
import type { Db } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import type { Log } from '../../lib/log.js';
import type { AlarmPipeline } from './pipeline.js';

/** What the alarm use cases need; built once by the alarm plugin (plugin.ts). */
export interface AlarmDeps {
  db: Db;
  config: Config;
  /** Time as the app sees it (tests inject their own): every event, press and escalation step is stamped with it. */
  clock: Clock;
  /** Every change is written and followed up through it. */
  pipeline: AlarmPipeline;
  log: Log;
}
