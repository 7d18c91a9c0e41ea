/**
 * A share of bench:fanout's devices in a process of its own (issue 15 item 1): one client process reading
 * 5,000 sockets is a bottleneck of the measurement itself, for the app and the baseline alike. The bench forks
 * several of these; each connects the devices it is given, keeps when each copy of an alarm arrived (on the
 * machine's monotonic clock, which every process shares) and confirms receipt as the app does while asked to.
 *
 * Messages from the bench (bench/client-fleet.ts) carry an `id`, answered with the same `id`.
 */
import { io as connect, type Socket } from 'socket.io-client';
import { arrivalKey, nowMs, type ClientRequest, type ClientReply } from './client-fleet.js';

interface Held {
  socket: Socket;
  received: Map<string, number>;
}

const held = new Map<number, Held>();
let receipting = true;
/** Waits for every named device to have a key: told of each arrival, in constant time (5,000 devices each). */
const waits = new Set<(index: number, key: string) => void>();

function send(reply: ClientReply): void {
  process.send?.(reply);
}

async function connectAll(request: Extract<ClientRequest, { type: 'connect' }>): Promise<void> {
  const batch = 250;
  for (let start = 0; start < request.devices.length; start += batch) {
    await Promise.all(request.devices.slice(start, start + batch).map(({ index, url, auth }) => new Promise<void>((resolve, reject) => {
      const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
      const device: Held = { socket, received: new Map() };
      held.set(index, device);
      socket.on(request.event, (payload: Record<string, unknown>) => {
        const key = arrivalKey(request.event, payload);
        if (key === null || device.received.has(key)) return;
        device.received.set(key, nowMs());
        // Like the app: a device confirms the alarm as soon as it has it, or after the wait and within the spread the server asked for.
        if (receipting && request.event === 'event') {
          const confirm = () => socket.emit('receipt', { incidentId: payload.incidentId, kind: 'delivered' });
          const ms = (name: string) => (typeof payload[name] === 'number' ? payload[name] : 0);
          const delayMs = ms('receiptAfterMs') + Math.floor(Math.random() * ms('receiptWithinMs'));
          if (delayMs > 0) setTimeout(confirm, delayMs);
          else confirm();
        }
        for (const arrived of waits) arrived(index, key);
      });
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    })));
  }
}

/** Resolves with the arrivals of `key` at the named devices once all of this process's have it, or at the timeout. */
function arrivals(key: string, indices: number[], timeoutMs: number): Promise<[number, number][]> {
  const mine = indices.filter((i) => held.has(i));
  const collect = (): [number, number][] => mine.flatMap((i) => {
    const at = held.get(i)?.received.get(key);
    return at === undefined ? [] : [[i, at] as [number, number]];
  });
  return new Promise((resolve) => {
    const finish = () => {
      waits.delete(arrived);
      clearTimeout(timer);
      resolve(collect());
    };
    const missing = new Set(mine.filter((i) => !held.get(i)?.received.has(key)));
    const arrived = (index: number, arrivedKey: string) => {
      if (arrivedKey === key && missing.delete(index) && missing.size === 0) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    waits.add(arrived);
    if (missing.size === 0) finish();
  });
}

process.on('message', (request: ClientRequest) => {
  void (async () => {
    try {
      if (request.type === 'connect') await connectAll(request);
      else if (request.type === 'receipting') receipting = request.on;
      else if (request.type === 'arrivals') {
        send({ id: request.id, ok: true, arrivals: await arrivals(request.key, request.indices, request.timeoutMs) });
        return;
      } else {
        for (const device of held.values()) device.socket.disconnect();
        held.clear();
      }
      send({ id: request.id, ok: true });
    } catch (err) {
      send({ id: request.id, ok: false, error: String(err) });
    }
  })();
});
