import type { Db } from '../../db/pool.js';
import type { InterNode, IoServer } from '../../plugins/socket-io.js';
import { liveSessionsAmong } from '../auth/sessions.js';
import { personRoom, sessionRoom } from './protocol.js';

/** Whose sockets close: one session's, or all of a person's (but one session's). */
export type SessionsTarget = { sessionId: string } | { personId: string; exceptSessionId?: string };

/** To the other nodes: these sessions have ended, close their sockets. */
export interface SessionsEnded {
  kind: 'sessions_ended';
  target: SessionsTarget;
}

interface Log {
  warn(obj: object, msg: string): void;
}

/** How long a node remembers what ended, for `RecentEnds.mayHaveEnded`: far longer than a handshake's check can take. */
const REMEMBERED_MS = 60_000;

/** A session as a socket holds it. */
interface SessionOf {
  sessionId: string;
  personId: string;
}

/**
 * What ended, as this node read it, over the last minute (times on one monotonic clock, `performance.now()`): for
 * a handshake's second look. A sign-out that commits after the handshake's check closes the sockets in the
 * session's rooms, on each node when it reads the end; a socket not yet in them then would be missed. An end read
 * after the join finds the socket in its rooms, and one committed before the check was seen by it, so only an end
 * read in between counts. A gap in the stream may have held any end, and a check older than what is remembered
 * may have missed one: both count as this session's.
 */
export class RecentEnds {
  /** Oldest first. */
  private readonly ended: { at: number; target: SessionsTarget | 'gap' }[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  remember(target: SessionsTarget | 'gap'): void {
    const at = this.now();
    this.forgetBefore(at - REMEMBERED_MS);
    this.ended.push({ at, target });
  }

  /** Whether `session`, checked live by a query sent at `checkedAt` (on this clock), may have ended without its socket closing. */
  mayHaveEnded(session: SessionOf, checkedAt: number): boolean {
    const now = this.now();
    this.forgetBefore(now - REMEMBERED_MS);
    if (now - checkedAt >= REMEMBERED_MS) return true;
    // Newest first, and only those read since the check: usually none.
    for (let i = this.ended.length - 1; i >= 0; i--) {
      const entry = this.ended[i];
      if (!entry || entry.at < checkedAt) return false;
      if (entry.target === 'gap' || ends(entry.target, session)) return true;
    }
    return false;
  }

  /** How many ends are remembered. */
  get size(): number {
    return this.ended.length;
  }

  private forgetBefore(horizon: number): void {
    const kept = this.ended.findIndex(({ at }) => at >= horizon);
    this.ended.splice(0, kept === -1 ? this.ended.length : kept);
  }
}

function ends(target: SessionsTarget, session: SessionOf): boolean {
  if ('sessionId' in target) return target.sessionId === session.sessionId;
  return target.personId === session.personId && target.exceptSessionId !== session.sessionId;
}

/**
 * Ended sessions lose their sockets on every node, at once: a lost phone that only listens would otherwise keep
 * getting alarms, since only what a device sends is checked against its session. The other nodes hear of it over
 * the inter-node stream (ADR 033), from where each was, so a node that stalled or lost its Redis connection
 * meanwhile still closes them when it resumes. Where the stream no longer holds what a node had yet to read,
 * the node checks the sessions of all its sockets instead.
 */
export class SessionEnds {
  /** What this node read of ends lately, for a handshake's second look. */
  readonly recent = new RecentEnds();

  constructor(
    private readonly io: IoServer,
    private readonly nodes: InterNode | null,
    private readonly db: Db,
    private readonly log: Log,
  ) {}

  /** Closes the target's sockets here and tells the other nodes to close theirs. Disconnecting with a packet makes the client stop reconnecting. */
  end(target: SessionsTarget): void {
    this.closeHere(target);
    this.nodes?.send({ kind: 'sessions_ended', target } satisfies SessionsEnded);
  }

  /** Another node ended sessions. */
  receive(message: SessionsEnded): void {
    this.closeHere(message.target);
  }

  /** After a gap in the inter-node stream: an ended session's message may be among what is gone. */
  async closeEndedAfterGap(): Promise<void> {
    this.recent.remember('gap');
    const sockets = [...this.io.of('/').sockets.values()];
    try {
      const live = await liveSessionsAmong(this.db, [...new Set(sockets.map((s) => s.data.principal.sessionId))]);
      for (const socket of sockets) if (!live.has(socket.data.principal.sessionId)) socket.disconnect(true);
    } catch (err) {
      this.log.warn({ err }, 'sessions not checked after an inter-node gap; an ended session\'s socket closes at its next action');
    }
  }

  private closeHere(target: SessionsTarget): void {
    this.recent.remember(target);
    const io = this.io.local;
    if ('sessionId' in target) io.in(sessionRoom(target.sessionId)).disconnectSockets(true);
    else if (target.exceptSessionId) io.in(personRoom(target.personId)).except(sessionRoom(target.exceptSessionId)).disconnectSockets(true);
    else io.in(personRoom(target.personId)).disconnectSockets(true);
  }
}
