import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReceiptQueue, type Ack, type ReceiptKind } from '../../web/src/lib/realtime/receipts.ts';

/** A scripted server: each receipt sent waits for the test to answer it (or to let it time out: null). */
function server(random?: () => number) {
  const sent: { receipt: string; answer: (ack: Ack<null> | null) => void }[] = [];
  const queue = new ReceiptQueue((r: { incidentId: string; kind: ReceiptKind }) =>
    new Promise((resolve) => sent.push({ receipt: `${r.incidentId}:${r.kind}`, answer: resolve })), random);
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { queue, sent, settle };
}

describe('web app receipt queue', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('confirms an alarm to thousands after the wait, at its random moment within the spread the server named, once; one cleared at sign-out meanwhile never goes', async () => {
    vi.useFakeTimers();
    const { queue, sent } = server(() => 0.75);
    queue.add('i1', 'delivered', { afterMs: 500, withinMs: 2000 });
    queue.add('i2', 'acknowledged');
    expect(sent.map((s) => s.receipt)).toEqual(['i2:acknowledged']);
    expect(queue.size).toBe(2);
    // Waiting for its moment is not a failure: a reconnect meanwhile does not send it early.
    queue.resendFailed();
    await vi.advanceTimersByTimeAsync(1999);
    expect(sent.map((s) => s.receipt)).toEqual(['i2:acknowledged']);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.map((s) => s.receipt)).toEqual(['i2:acknowledged', 'i1:delivered']);
    sent[1]?.answer({ ok: true, data: null });
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent.length).toBe(2);

    queue.add('i3', 'delivered', { withinMs: 2000 });
    queue.clear();
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent.length).toBe(2);
  });

  it('sends a receipt whose answer was lost, or that the server could not store, again at the next chance; a stored one never again', async () => {
    const { queue, sent, settle } = server();
    queue.add('i1', 'delivered');
    queue.add('i2', 'delivered');
    queue.add('i3', 'acknowledged');
    expect(sent.map((s) => s.receipt)).toEqual(['i1:delivered', 'i2:delivered', 'i3:acknowledged']);
    sent[0]?.answer(null);
    sent[1]?.answer({ ok: false, error: { code: 'database_unavailable', message: '' } });
    sent[2]?.answer({ ok: true, data: null });
    await settle();
    expect(queue.size).toBe(2);

    queue.resendFailed();
    expect(sent.slice(3).map((s) => s.receipt)).toEqual(['i1:delivered', 'i2:delivered']);
    // Not failed again yet (waiting for the answer): a second reconnect does not send them twice.
    queue.resendFailed();
    expect(sent.length).toBe(5);
    sent[3]?.answer({ ok: true, data: null });
    sent[4]?.answer({ ok: true, data: null });
    await settle();
    expect(queue.size).toBe(0);
    queue.resendFailed();
    expect(sent.length).toBe(5);
  });

  it('drops a receipt the server refused for good (not found, forbidden): asking again will never succeed', async () => {
    const { queue, sent, settle } = server();
    queue.add('i1', 'delivered');
    sent[0]?.answer({ ok: false, error: { code: 'not_found', message: '' } });
    await settle();
    expect(queue.size).toBe(0);
  });

  it('a receipt sent again replaces the earlier attempt, whose late answer no longer decides; clearing at sign-out ends them all', async () => {
    const { queue, sent, settle } = server();
    queue.add('i1', 'delivered');
    queue.add('i1', 'delivered');
    sent[1]?.answer({ ok: true, data: null });
    sent[0]?.answer(null);
    await settle();
    expect(queue.size).toBe(0);

    queue.add('i2', 'delivered');
    queue.clear();
    sent[2]?.answer(null);
    await settle();
    queue.resendFailed();
    expect(sent.length).toBe(3);
  });
});
