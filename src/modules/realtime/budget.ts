/**
 * How many events a socket and a person may send (issue: one signed-in socket sending 2,000 events
 * in 5 s starved the database pool for everyone). Token buckets: each event takes a token; tokens come
 * back at a steady rate up to a burst. Raises have buckets of their own, so a flood of other events
 * from the same device or person never starves an alarm. A socket that keeps going far past its budget
 * is abusive and gets disconnected.
 */
export interface BudgetRule {
  /** Tokens a bucket holds: the burst allowed at once. */
  burst: number;
  /** Tokens returned per second. */
  perSecond: number;
}

export const SOCKET_BUDGET = {
  /** sync and receipt: a device sends a few per alarm, and a sync every 20 s. */
  perSocket: { burst: 40, perSecond: 10 },
  /** All of one person's devices on this node together. */
  perPerson: { burst: 100, perSecond: 25 },
  /** Raises, per socket: far more than a person presses, far fewer than a script. */
  raise: { burst: 10, perSecond: 1 },
  /** Refused events a socket may pile up (they decay by `perSecond`) before it is disconnected. */
  abuse: { burst: 200, perSecond: 20 },
} as const satisfies Record<string, BudgetRule>;

class Bucket {
  private tokens: number;
  private at: number;

  constructor(private readonly rule: BudgetRule, now: number) {
    this.tokens = rule.burst;
    this.at = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.rule.burst, this.tokens + ((now - this.at) / 1000) * this.rule.perSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export type Verdict = 'ok' | 'refused' | 'abusive';

export class SocketBudget {
  private readonly sockets = new Map<string, { other: Bucket; raise: Bucket; abuse: Bucket }>();
  private readonly people = new Map<string, { bucket: Bucket; sockets: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  take(socketId: string, personId: string, kind: 'raise' | 'other'): Verdict {
    const now = this.now();
    const socket = this.socket(socketId, personId, now);
    if (kind === 'raise') return socket.raise.take(now) ? 'ok' : this.refuse(socket.abuse, now);
    const person = this.people.get(personId) as { bucket: Bucket };
    // Both must allow it; a socket's refusal does not spend the person's token.
    if (socket.other.take(now) && person.bucket.take(now)) return 'ok';
    return this.refuse(socket.abuse, now);
  }

  forget(socketId: string, personId: string): void {
    if (!this.sockets.delete(socketId)) return;
    const person = this.people.get(personId);
    if (person && --person.sockets === 0) this.people.delete(personId);
  }

  private refuse(abuse: Bucket, now: number): Verdict {
    return abuse.take(now) ? 'refused' : 'abusive';
  }

  private socket(socketId: string, personId: string, now: number) {
    let socket = this.sockets.get(socketId);
    if (!socket) {
      socket = { other: new Bucket(SOCKET_BUDGET.perSocket, now), raise: new Bucket(SOCKET_BUDGET.raise, now), abuse: new Bucket(SOCKET_BUDGET.abuse, now) };
      this.sockets.set(socketId, socket);
      const person = this.people.get(personId);
      if (person) person.sockets += 1;
      else this.people.set(personId, { bucket: new Bucket(SOCKET_BUDGET.perPerson, now), sockets: 1 });
    }
    return socket;
  }
}
