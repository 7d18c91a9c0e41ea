/**
 * npm run bench:flood — does a flood of socket events from one signed-in device slow down someone
 * else's alarm? The raise is timed from another device's point of view (the HTTP answer, and the
 * socket raise's ack) without a flood (the baseline) and while one device sends BENCH_FLOOD events
 * (default 2000) as fast as it can, in the same run against the same node.
 *
 * Environment: BENCH_FLOOD (2000), BENCH_RAISES (15 per phase). The last line of output is one JSON object.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { pino } from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import { migrate } from '../src/db/migrate.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { seedDemo } from '../src/seed/demo.js';
import { freePort, startTestRedis } from '../test/helpers/services.js';
import { callNode, loginAt, startNode } from '../test/helpers/nodes.js';
import { percentile } from './support.js';

const FLOOD = Number(process.env.BENCH_FLOOD ?? 2000);
const RAISES = Number(process.env.BENCH_RAISES ?? 15);
const log = pino({ level: 'warn' });

interface Ids {
  site: string;
  hot: string;
}

function socketOf(url: string, token: string, deviceId: string): Promise<Socket> {
  const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token, deviceId, cursor: null } });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

async function main(): Promise<void> {
  const dataDir = path.join(os.tmpdir(), `samlarm-bench-flood-${process.pid}`);
  const postgres = await startEmbeddedPostgres({ dataDir, port: await freePort(), log });
  const redis = await startTestRedis();
  try {
    const pool = new pg.Pool({ connectionString: postgres.connectionString, max: 2 });
    await migrate(pool, log);
    await seedDemo(pool);
    const one = async (sql: string) => (await pool.query<{ id: string }>(sql)).rows[0]?.id as string;
    const ids: Ids = {
      site: await one("SELECT id FROM sites WHERE name = 'Vasaskolan'"),
      hot: await one("SELECT id FROM alarm_types WHERE organisation_id IS NULL AND key = 'hot'"),
    };
    await pool.end();
    const node = await startNode({ DATABASE_URL: postgres.connectionString, REDIS_URL: redis.url, DELIVERY_WORKER: 'false', SEED_DEMO: 'false' });
    try {
      const anna = await loginAt(node.url, 'anna@vasaskolan.example');
      const kris = await loginAt(node.url, 'kris@utbildning.example');
      const bertil = await loginAt(node.url, 'bertil@vasaskolan.example');
      const annaSocket = await socketOf(node.url, anna, 'bench-anna-phone');

      // The socket's own raise budget refills at one a second (src/modules/realtime/budget.ts): the bench
      // raises no faster, as a person pressing again and again would, so that it measures the flood, not the budget.
      let lastSocketRaise = 0;
      /** One raise over HTTP and one over the socket, each timed to its answer, then all clear. */
      const raiseOnce = async (): Promise<{ http: number; socket: number }> => {
        await sleep(Math.max(0, lastSocketRaise + 1100 - performance.now()));
        lastSocketRaise = performance.now();
        let started = performance.now();
        const viaHttp = await callNode<{ incident: { id: string } }>(node.url, 'POST', '/api/v1/alarms', {
          token: anna, body: { pressId: randomUUID(), siteId: ids.site, alarmTypeId: ids.hot },
        });
        const http = performance.now() - started;
        if (viaHttp.status !== 201) throw new Error(`raise answered ${viaHttp.status}: ${JSON.stringify(viaHttp.body)}`);
        await callNode(node.url, 'POST', `/api/v1/incidents/${viaHttp.body.incident.id}/resolve`, { token: kris, body: {} });
        started = performance.now();
        const ack = await annaSocket.timeout(30_000).emitWithAck('raise', { pressId: randomUUID(), siteId: ids.site, alarmTypeId: ids.hot }) as
          { ok: boolean; data?: { incident: { id: string } }; error?: unknown };
        const socket = performance.now() - started;
        if (!ack.ok || !ack.data) throw new Error(`socket raise refused: ${JSON.stringify(ack.error)}`);
        await callNode(node.url, 'POST', `/api/v1/incidents/${ack.data.incident.id}/resolve`, { token: kris, body: {} });
        return { http, socket };
      };
      const phase = async () => {
        const samples: { http: number; socket: number }[] = [];
        for (let i = 0; i < RAISES; i++) samples.push(await raiseOnce());
        return { http: samples.map((s) => s.http), socket: samples.map((s) => s.socket) };
      };

      for (let i = 0; i < 3; i++) await raiseOnce();
      const quiet = await phase();

      // One signed-in device sends every event it can, without waiting for answers, while the raises go on.
      const flooder = await socketOf(node.url, bertil, 'bench-bertil-flood');
      const answers = { ok: 0, rateLimited: 0, other: 0, unanswered: 0 };
      let disconnected = false;
      flooder.on('disconnect', () => (disconnected = true));
      const flood = Promise.all(Array.from({ length: FLOOD }, (_, i) =>
        flooder.timeout(60_000).emitWithAck(i % 2 ? 'sync' : 'receipt', i % 2 ? { cursor: '0' } : { incidentId: randomUUID(), kind: 'delivered' })
          .then((ack: { ok: boolean; error?: { code: string } }) => {
            if (ack.ok) answers.ok += 1;
            else if (ack.error?.code === 'rate_limited') answers.rateLimited += 1;
            else answers.other += 1;
          }, () => {
            answers.unanswered += 1;
          })));
      const flooded = await phase();
      await flood;
      flooder.close();
      annaSocket.close();

      const p50 = (v: number[]) => Math.round(percentile(v, 50) * 10) / 10;
      const p95 = (v: number[]) => Math.round(percentile(v, 95) * 10) / 10;
      const result = {
        flood_events: FLOOD,
        raises_per_phase: RAISES,
        raise_http_p50_ms: p50(quiet.http), raise_http_p95_ms: p95(quiet.http),
        flooded_raise_http_p50_ms: p50(flooded.http), flooded_raise_http_p95_ms: p95(flooded.http),
        raise_socket_p50_ms: p50(quiet.socket), flooded_raise_socket_p50_ms: p50(flooded.socket),
        ratio_http_p50: Math.round((percentile(flooded.http, 50) / percentile(quiet.http, 50)) * 100) / 100,
        ratio_socket_p50: Math.round((percentile(flooded.socket, 50) / percentile(quiet.socket, 50)) * 100) / 100,
        flood_answered_ok: answers.ok, flood_rate_limited: answers.rateLimited, flood_other_errors: answers.other,
        flood_unanswered: answers.unanswered, flooder_disconnected: disconnected,
      };
      console.log(JSON.stringify(result));
    } finally {
      await node.stop();
    }
  } finally {
    await redis.stop();
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
