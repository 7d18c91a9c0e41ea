import { describe, expect, it } from 'vitest';
import { SOCKET_BUDGET, SocketBudget } from '../../src/modules/realtime/budget.js';

describe('a socket\'s event budget', () => {
  it('allows a burst, refuses beyond it, and gives tokens back over time', () => {
    let now = 0;
    const budget = new SocketBudget(() => now);
    const burst = SOCKET_BUDGET.perSocket.burst;
    for (let i = 0; i < burst; i++) expect(budget.take('s1', 'p1', 'other')).toBe('ok');
    expect(budget.take('s1', 'p1', 'other')).toBe('refused');
    now += 1000;
    for (let i = 0; i < SOCKET_BUDGET.perSocket.perSecond; i++) expect(budget.take('s1', 'p1', 'other')).toBe('ok');
    expect(budget.take('s1', 'p1', 'other')).toBe('refused');
  });

  it('never lets a flood of other events starve a raise from the same socket', () => {
    const budget = new SocketBudget(() => 0);
    for (let i = 0; i < 150; i++) budget.take('s1', 'p1', 'other');
    expect(budget.take('s1', 'p1', 'raise')).toBe('ok');
  });

  it('limits all of a person\'s sockets together, and forgets a socket that is gone', () => {
    const budget = new SocketBudget(() => 0);
    let ok = 0;
    for (let s = 0; s < 10; s++) for (let i = 0; i < 40; i++) if (budget.take(`s${s}`, 'p1', 'other') === 'ok') ok += 1;
    expect(ok).toBe(SOCKET_BUDGET.perPerson.burst);
    expect(budget.take('t0', 'p2', 'other')).toBe('ok');
    for (let s = 0; s < 10; s++) budget.forget(`s${s}`, 'p1');
    expect(budget.take('s11', 'p1', 'other')).toBe('ok');
  });

  it('calls a socket abusive once it keeps going far past its budget', () => {
    const budget = new SocketBudget(() => 0);
    const verdicts = Array.from({ length: SOCKET_BUDGET.perSocket.burst + SOCKET_BUDGET.abuse.burst + 1 }, () => budget.take('s1', 'p1', 'other'));
    expect(verdicts.filter((v) => v === 'refused')).toHaveLength(SOCKET_BUDGET.abuse.burst);
    expect(verdicts.at(-1)).toBe('abusive');
  });
});
