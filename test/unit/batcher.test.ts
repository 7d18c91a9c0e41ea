import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/lib/batcher.js';

const options = { delayMs: 5, maxBatch: 100, retryMs: 5, maxPending: 1000, onError: () => undefined, overloaded: () => new Error('overloaded') };

describe('the batcher', () => {
  it('writes what arrives together in one batch and answers each item with its own result', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>({ ...options, write: async (batch) => { batches.push(batch); return batch.map((n) => n * 2); } });
    expect(await Promise.all([1, 2, 3].map((n) => batcher.add(n)))).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('writes a full batch at once and keeps the order of batches', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>({ ...options, maxBatch: 2, write: async (batch) => { batches.push(batch); return batch.map(() => undefined); } });
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('puts a batch back when writing fails and writes it later: nothing is lost to a blip', async () => {
    let failures = 1;
    const written: number[] = [];
    const errors: number[] = [];
    const batcher = new Batcher<number>({
      ...options, onError: (_err, n) => errors.push(n),
      write: async (batch) => {
        if (failures-- > 0) throw new Error('database away');
        written.push(...batch);
        return batch.map(() => undefined);
      },
    });
    await Promise.all([1, 2].map((n) => batcher.add(n)));
    expect(errors).toEqual([2]);
    expect(written).toEqual([1, 2]);
  });

  it('refuses new items at once while too many wait', async () => {
    const batcher = new Batcher<number>({ ...options, maxPending: 2, write: async () => { throw new Error('down'); } });
    void batcher.add(1);
    void batcher.add(2);
    await expect(batcher.add(3)).rejects.toThrow('overloaded');
  });
});
