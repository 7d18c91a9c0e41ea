/**
 * The baseline of bench:push, in a process of its own as the app's sender is: plain web-push
 * `sendNotification` calls at the same concurrency, to the same push service, with a keep-alive
 * agent that trusts its certificate. Reads the job from argv (a JSON file) and prints its timing.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import webpush from 'web-push';

interface Job {
  subscriptions: { endpoint: string; keys: { p256dh: string; auth: string } }[];
  payload: string;
  concurrency: number;
  ca: string;
  vapid: { subject: string; publicKey: string; privateKey: string };
}

async function main(): Promise<void> {
  const job = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as Job;
  const agent = new Agent({ keepAlive: true, ca: readFileSync(job.ca) });
  const queue = [...job.subscriptions];
  let failed = 0;
  const started = performance.now();
  const lane = async () => {
    for (let sub = queue.shift(); sub; sub = queue.shift()) {
      await webpush.sendNotification(sub, job.payload, {
        TTL: 600, urgency: 'high', topic: 'baseline', vapidDetails: job.vapid, agent, timeout: 10_000,
      }).catch(() => {
        failed += 1;
      });
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, lane));
  const ms = performance.now() - started;
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ ms, failed })}\n`);
}

void main();
