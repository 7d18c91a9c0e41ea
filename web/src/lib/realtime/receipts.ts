import { ackError, isTransient } from '../errors.ts';

export type ReceiptKind = 'delivered' | 'acknowledged';
export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };

/**
 * Sends one receipt; resolves with the server's acknowledgement, or null when none came in time (Socket.IO
 * drops the answer of a packet sent just before a connection died) or there is no connection to send on.
 */
export type SendReceipt = (receipt: { incidentId: string; kind: ReceiptKind }) => Promise<Ack<null> | null>;

interface Pending { incidentId: string; kind: ReceiptKind; failed: boolean }

/** When the server asked for a receipt (every live alarm says: docs/realtime.md, "Confirm receipt"; ADR 037, 039). */
export interface ReceiptSpread {
  /** Wait this long first: the alarm is still being written to the last devices. */
  afterMs?: number;
  /** Then go at a random moment within this long. */
  withinMs?: number;
}

/**
 * Receipts not yet confirmed by the server. One whose answer never came, or that the server could not
 * store ("not now": the database away), is sent again on reconnect and at every sync; otherwise the
 * person would stay "not reached" and be escalated. Any other answer ends it: it will never succeed.
 */
export class ReceiptQueue {
  private readonly pending = new Map<string, Pending>();

  /** `random` in [0, 1): when within a spread a receipt goes (tests pass their own). */
  constructor(private readonly send: SendReceipt, private readonly random: () => number = Math.random) {}

  /**
   * Sends a receipt, at once or, when the server named a spread (a live alarm: longer the more people it reaches),
   * after its wait at a random moment within it: five thousand devices do not answer in the same millisecond, nor
   * while the alarm is still being written to the last of them.
   */
  add(incidentId: string, kind: ReceiptKind, spread: ReceiptSpread = {}): void {
    const key = `${incidentId}:${kind}`;
    const receipt: Pending = { incidentId, kind, failed: false };
    this.pending.set(key, receipt);
    const delayMs = (spread.afterMs ?? 0) + Math.floor(this.random() * (spread.withinMs ?? 0));
    if (delayMs <= 0) {
      this.sendOne(key, receipt);
      return;
    }
    setTimeout(() => {
      // Cleared (sign-out) or replaced meanwhile: that one decides.
      if (this.pending.get(key) === receipt) this.sendOne(key, receipt);
    }, delayMs);
  }

  /** Sends again every receipt whose last attempt failed (on reconnect, at a sync). */
  resendFailed(): void {
    for (const [key, receipt] of this.pending) if (receipt.failed) this.sendOne(key, receipt);
  }

  /** Receipts still waiting for the server, for the device check and the tests. */
  get size(): number {
    return this.pending.size;
  }

  clear(): void {
    this.pending.clear();
  }

  private sendOne(key: string, receipt: Pending): void {
    receipt.failed = false;
    void this.send({ incidentId: receipt.incidentId, kind: receipt.kind }).then((ack) => {
      // Replaced meanwhile (sent again, or the queue cleared at sign-out): that attempt decides.
      if (this.pending.get(key) !== receipt) return;
      if (ack === null || (!ack.ok && isTransient(ackError(ack.error)))) receipt.failed = true;
      else this.pending.delete(key);
    });
  }
}
