import pg from 'pg';
import { createTestDatabase } from './app.js';
import { TestDevice, type DeviceOptions } from './device.js';
import { callNode, loginAt, startNode, type AppNode } from './nodes.js';
import { startTestRedis, type RedisServer } from './services.js';

/** The demo people the multi-node tests act as. */
export const PEOPLE = {
  anna: 'anna@vasaskolan.example',
  bertil: 'bertil@vasaskolan.example',
  cecilia: 'cecilia@vasaskolan.example',
  rektor: 'rektor@vasaskolan.example',
  kris: 'kris@utbildning.example',
  admin: 'admin@utbildning.example',
} as const;
export type Who = keyof typeof PEOPLE;
export const TYPE_KEYS = ['inrymning', 'brand', 'hot', 'utrymning'] as const;
export type TypeKey = (typeof TYPE_KEYS)[number];

export interface IncidentAnswer { outcome: string; incident: { id: string } }
export interface EventsAnswer { events: { id: string; type: string }[] }

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A device predicate: it has seen every one of these event ids. */
export const hasEvents = (ids: Iterable<string>) => {
  const wanted = [...ids];
  return (d: TestDevice) => wanted.every((id) => d.events.some((e) => e.id === id));
};

/**
 * Real app processes on one Redis and one Postgres of their own (a database cloned from the seeded
 * template), for tests that kill nodes, restart Redis or stop Postgres without disturbing other files.
 */
export class Cluster {
  readonly nodes: AppNode[] = [];
  readonly alarmType = {} as Record<TypeKey, string>;
  readonly person = {} as Record<Who, string>;
  readonly token = {} as Record<Who, string>;
  vasaskolan = '';
  private readonly started: AppNode[] = [];
  private readonly devices: TestDevice[] = [];

  private constructor(
    readonly database: Awaited<ReturnType<typeof createTestDatabase>>,
    readonly redis: RedisServer,
    private readonly db: pg.Pool,
    readonly env: Record<string, string>,
  ) {}

  /** `env` adds to every node's environment (e.g. a local push service and its CA). */
  static async start(nodeCount: number, env: Record<string, string> = {}): Promise<Cluster> {
    const database = await createTestDatabase();
    const redis = await startTestRedis().catch(async (err: unknown) => {
      await database.drop();
      throw err;
    });
    const db = new pg.Pool({ connectionString: database.url, max: 2 });
    // The forced DROP DATABASE at the end may hit an idle connection after end() resolved.
    db.on('error', () => undefined);
    const cluster = new Cluster(database, redis, db, {
      DATABASE_URL: database.url, REDIS_URL: redis.url, MIGRATE_ON_START: 'true', SEED_DEMO: 'false', LOGIN_RATE_LIMIT_PER_MINUTE: '1000', ...env,
    });
    try {
      await cluster.prepare(nodeCount);
    } catch (err) {
      // The test never gets the cluster to stop: whatever did start (nodes, Redis, the database) stops here.
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Starts the nodes and reads the seeded ids and the demo people's tokens. */
  private async prepare(nodeCount: number): Promise<void> {
    const launched = await Promise.allSettled(Array.from({ length: nodeCount }, () => this.launch()));
    for (const result of launched) {
      if (result.status === 'rejected') throw result.reason;
      this.nodes.push(result.value);
    }
    const first = this.nodes[0] as AppNode;
    const [site] = await this.query<{ id: string }>("SELECT id FROM sites WHERE name = 'Vasaskolan'");
    this.vasaskolan = site?.id ?? '';
    for (const row of await this.query<{ id: string; key: TypeKey }>('SELECT id, key FROM alarm_types WHERE organisation_id IS NULL')) {
      this.alarmType[row.key] = row.id;
    }
    for (const [who, email] of Object.entries(PEOPLE) as [Who, string][]) {
      const [row] = await this.query<{ id: string }>('SELECT id FROM people WHERE email = $1', [email]);
      this.person[who] = row?.id ?? '';
      this.token[who] = await loginAt(first.url, email);
    }
  }

  /** Starts one more node (on `port`, to come back where devices expect it); `env` adds to the cluster's. */
  async launch(options: { env?: Record<string, string>; port?: number } = {}): Promise<AppNode> {
    const node = await startNode({ ...this.env, ...options.env }, options.port === undefined ? {} : { port: options.port });
    this.started.push(node);
    return node;
  }

  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query<T>(sql, params)).rows;
  }

  async connect(who: Who, urls: string[], options: Partial<DeviceOptions> = {}): Promise<TestDevice> {
    const device = await TestDevice.connect({ urls, token: this.token[who], ...options });
    this.devices.push(device);
    return device;
  }

  /** The id of an incident's 'raised' event: the cursor a device must reach. */
  async raisedEventId(incidentId: string): Promise<string> {
    const [row] = await this.query<{ id: string }>("SELECT id FROM incident_events WHERE incident_id = $1 AND type = 'raised'", [incidentId]);
    if (!row) throw new Error(`no raised event for ${incidentId}`);
    return row.id;
  }

  /** The crisis lead declares all clear for every active incident, through `node`. */
  async resolveAllActive(node: AppNode): Promise<void> {
    for (const { id } of await this.query<{ id: string }>("SELECT id FROM incidents WHERE state = 'active'")) {
      const res = await callNode(node.url, 'POST', `/api/v1/incidents/${id}/resolve`, { token: this.token.kris, body: {} });
      if (res.status !== 200) throw new Error(`resolve ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  }

  /** Closes the devices of one test, so they do not answer (with receipts) in the next. */
  closeDevices(): void {
    for (const device of this.devices.splice(0)) device.close();
  }

  /** Stops everything the cluster started, each part whatever became of the others, then reports the first failure. */
  async stop(): Promise<void> {
    this.closeDevices();
    const stopped = [
      ...await Promise.allSettled(this.started.map((node) => node.kill())),
      ...await Promise.allSettled([this.redis.stop()]),
      ...await Promise.allSettled([this.db.end().catch(() => undefined).then(() => this.database.drop())]),
    ];
    const failed = stopped.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
