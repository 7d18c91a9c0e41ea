import { describe, expect, it } from 'vitest';
import { RecentEnds } from '../../src/modules/realtime/sessions.js';

const anna = { sessionId: 's-anna-phone', personId: 'p-anna' };

describe("a handshake's second look at its session", () => {
  it('is needed when its session, or all of its person\'s, ended after the check', () => {
    let now = 1000;
    const ends = new RecentEnds(() => now);
    const checkedAt = now;
    expect(ends.mayHaveEnded(anna, checkedAt)).toBe(false);
    now += 5;
    ends.remember({ sessionId: 's-anna-phone' });
    expect(ends.mayHaveEnded(anna, checkedAt)).toBe(true);

    const again = new RecentEnds(() => now);
    again.remember({ personId: 'p-anna' });
    expect(again.mayHaveEnded(anna, checkedAt)).toBe(true);
  });

  it("is not needed for another session's end, an end that spares this session, or an end the check already saw", () => {
    let now = 1000;
    const ends = new RecentEnds(() => now);
    ends.remember({ sessionId: 's-anna-phone' });
    now += 1;
    const checkedAt = now;
    now += 5;
    ends.remember({ sessionId: 's-bertil-phone' });
    ends.remember({ personId: 'p-bertil' });
    ends.remember({ personId: 'p-anna', exceptSessionId: 's-anna-phone' });
    expect(ends.mayHaveEnded(anna, checkedAt)).toBe(false);
  });

  it('is needed after a gap in the inter-node stream, which may have held any end', () => {
    let now = 1000;
    const ends = new RecentEnds(() => now);
    const checkedAt = now;
    now += 5;
    ends.remember('gap');
    expect(ends.mayHaveEnded(anna, checkedAt)).toBe(true);
    expect(ends.mayHaveEnded(anna, now + 1)).toBe(false);
  });

  it('is needed when the check is older than what is remembered, and old ends are forgotten', () => {
    let now = 1000;
    const ends = new RecentEnds(() => now);
    const checkedAt = now;
    for (let i = 0; i < 100; i++) {
      now += 1000;
      ends.remember({ sessionId: `s-${i}` });
    }
    expect(ends.size).toBeLessThanOrEqual(61);
    expect(ends.mayHaveEnded(anna, checkedAt)).toBe(true);
    expect(ends.mayHaveEnded(anna, now - 10)).toBe(false);
  });
});
