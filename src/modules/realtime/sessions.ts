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

/**
 * Ended sessions lose their sockets on every node, at once: a lost phone that only listens would otherwise keep
 * getting alarms, since only what a device sends is checked against its session. The other nodes hear of it over
 * the inter-node stream (ADR 033), from where each was, so a node that stalled or lost its Redis connection
 * meanwhile still closes them when it resumes. Where the stream no longer holds what a node had yet to read,
 * the node checks the sessions of all its sockets instead.
 */
export class SessionEnds {
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
    const sockets = [...this.io.of('/').sockets.values()];
    try {
      const live = await liveSessionsAmong(this.db, [...new Set(sockets.map((s) => s.data.principal.sessionId))]);
      for (const socket of sockets) if (!live.has(socket.data.principal.sessionId)) socket.disconnect(true);
    } catch (err) {
      this.log.warn({ err }, 'sessions not checked after an inter-node gap; an ended session\'s socket closes at its next action');
    }
  }

  private closeHere(target: SessionsTarget): void {
    const io = this.io.local;
    if ('sessionId' in target) io.in(sessionRoom(target.sessionId)).disconnectSockets(true);
    else if (target.exceptSessionId) io.in(personRoom(target.personId)).except(sessionRoom(target.exceptSessionId)).disconnectSockets(true);
    else io.in(personRoom(target.personId)).disconnectSockets(true);
  }
}
