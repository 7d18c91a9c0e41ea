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

/**
 * Receipts held until their time, by the slot of RECEIPT_SLOT_MS they fall due in, sent by one timer for the whole
 * process, each holding only its incident's id. A phone holds one timer for its one receipt; this process stands in
 * for thousands of phones. A timer each (2,500 per alarm, each at its own random delay: 10–15 ms of processor time to
 * set) whose callback held the alarm's whole payload until it fired was work of the simulated phones, on the cores
 * the nodes share, that the bare broadcast's clients never do (docs/PERFORMANCE.md, 2026-12-05).
 */
const RECEIPT_SLOT_MS = 10;
const dueReceipts = new Map<number, (() => void)[]>();
let receiptTimer: NodeJS.Timeout | undefined;

function confirmLater(delayMs: number, confirm: () => void): void {
  const slot = Math.ceil((nowMs() + delayMs) / RECEIPT_SLOT_MS);
  const due = dueReceipts.get(slot);
  if (due) due.push(confirm);
  else dueReceipts.set(slot, [confirm]);
  receiptTimer ??= setInterval(sendDueReceipts, RECEIPT_SLOT_MS);
}

function sendDueReceipts(): void {
  const now = nowMs() / RECEIPT_SLOT_MS;
  for (const [slot, confirms] of dueReceipts) {
    if (slot > now) continue;
    dueReceipts.delete(slot);
    for (const confirm of confirms) confirm();
  }
  if (dueReceipts.size === 0) {
    clearInterval(receiptTimer);
    receiptTimer = undefined;
  }
}

/** Answers the bench; `then` runs once the answer is out. */
function send(reply: ClientReply, then: () => void = () => undefined): void {
  process.send?.(reply, then);
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
          const incidentId = payload.incidentId;
          const confirm = () => socket.emit('receipt', { incidentId, kind: 'delivered' });
          const ms = (name: string) => (typeof payload[name] === 'number' ? payload[name] : 0);
          const delayMs = ms('receiptAfterMs') + Math.floor(Math.random() * ms('receiptWithinMs'));
          if (delayMs > 0) confirmLater(delayMs, confirm);
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
        // Done: the process exits once the answer is out (a CPU profile is written at exit).
        send({ id: request.id, ok: true }, () => process.exit(0));
        return;
      }
      send({ id: request.id, ok: true });
    } catch (err) {
      send({ id: request.id, ok: false, error: String(err) });
    }
  })();
});
