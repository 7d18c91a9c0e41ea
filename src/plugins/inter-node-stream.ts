import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

interface StreamLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** About this many entries stay in the stream (trimmed approximately, as Redis does cheaply); see ADR 030. */
const KEEP_ENTRIES = 20_000;
const READ_BATCH = 500;
const BLOCK_MS = 2000;
const RETRY_MS = 200;
/** Where reading starts after a gap: everything the stream still holds. */
const FROM_START = '0-0';

type Fields = string[];
type ReadReply = [key: string, entries: [id: string, fields: Fields][]][] | null;

/**
 * Messages from one node to all the others, over a Redis stream (ADR 030): each message is appended
 * once (XADD) and every node reads from the last id it has read (XREAD), so a killed connection, a
 * Redis restart with its data or a node that stalls resumes where it was and misses nothing. Only a
 * stream that no longer holds that id (trimmed while the node was away, or lost with a Redis restart
 * without persistence) can have lost messages for it: that is reported as a gap.
 *
 * The writer is a connection with its offline queue on (an append waits out an outage); the reader is
 * a connection of its own, since XREAD blocks.
 */
export class InterNodeStream {
  private readonly nodeId = randomUUID();
  private readonly messageListeners: ((payload: unknown) => void)[] = [];
  private readonly gapListeners: (() => void)[] = [];
  /** The last entry this node has read; unset until it has marked where it starts. */
  private lastId: string | undefined;
  private closed = false;
  private running: Promise<void> | undefined;
  /** Settles when close() is called: a read queued while the reader reconnects is not waited for then. */
  private readonly closing: Promise<void>;
  private signalClosing: () => void = () => undefined;

  constructor(
    private readonly writer: Redis,
    private readonly reader: Redis,
    private readonly key: string,
    private readonly log: StreamLog,
  ) {
    this.closing = new Promise((resolve) => {
      this.signalClosing = resolve;
    });
  }

  /** To every other node, after whatever this node sent before. Never throws. */
  send(payload: unknown): void {
    this.writer.xadd(this.key, 'MAXLEN', '~', KEEP_ENTRIES, '*', 'n', this.nodeId, 'd', JSON.stringify(payload))
      .catch((err: unknown) => this.log.warn({ err: errorText(err) }, 'inter-node message not appended'));
  }

  onMessage(listener: (payload: unknown) => void): void {
    this.messageListeners.push(listener);
  }

  onGap(listener: () => void): void {
    this.gapListeners.push(listener);
  }

  start(): void {
    this.running ??= this.run();
  }

  /**
   * Ends the reading at once. ioredis settles no command queued while a connection waits to reconnect
   * when that connection is disconnected (it would have been sent on reconnecting), so the read in
   * progress is left behind rather than waited for: a node shutting down during a Redis outage would
   * otherwise never finish.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.signalClosing();
    this.reader.disconnect();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        await Promise.race([this.readOnce(), this.closing]);
      } catch (err) {
        if (this.closed) return;
        this.log.debug({ err: errorText(err) }, 'inter-node stream read failed; reading again');
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /**
   * One read from where this node was. The last id read is looked up in the same round trip: while
   * it is still in the stream, nothing after it can have been trimmed, so the read misses nothing.
   */
  private async readOnce(): Promise<void> {
    // A start marker of this node's own: a position in the stream that a later check can find.
    this.lastId ??= await this.reader.xadd(this.key, 'MAXLEN', '~', KEEP_ENTRIES, '*', 'n', this.nodeId) ?? undefined;
    const from = this.lastId ?? FROM_START;
    const pipeline = this.reader.pipeline();
    if (from !== FROM_START) pipeline.xrange(this.key, from, from);
    pipeline.xread('COUNT', READ_BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', this.key, from);
    const replies = (await pipeline.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    if (from !== FROM_START && (replies[0]?.[1] as unknown[]).length === 0) {
      this.lastId = FROM_START;
      this.log.warn({ from }, 'the inter-node stream no longer holds where this node was: messages may be lost');
      for (const listener of this.gapListeners) listener();
      return;
    }
    const read = replies.at(-1)?.[1] as ReadReply;
    for (const [id, fields] of read?.[0]?.[1] ?? []) {
      this.lastId = id;
      const sender = field(fields, 'n');
      const data = field(fields, 'd');
      if (sender === this.nodeId || data === undefined) continue;
      this.deliver(id, data);
    }
  }

  private deliver(id: string, data: string): void {
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      this.log.warn({ id }, 'inter-node message is not JSON; skipped');
      return;
    }
    for (const listener of this.messageListeners) listener(payload);
  }
}

function field(fields: Fields, name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
