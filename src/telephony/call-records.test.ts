import { describe, expect, it } from 'vitest';
import { together } from './call-records.ts';

const later = <T>(ms: number, fn: () => T): Promise<T> =>
  new Promise<void>((resolve) => setTimeout(resolve, ms)).then(fn);

describe('together (the CDR write and the policy hook of one answer or end)', () => {
  it('settles only once both writes have, whichever ends first', async () => {
    const order: string[] = [];
    await together(later(20, () => void order.push('a')), later(5, () => void order.push('b')));
    order.push('done');
    await together(later(5, () => void order.push('a2')), later(20, () => void order.push('b2')));
    order.push('done2');
    expect(order).toEqual(['b', 'a', 'done', 'a2', 'b2', 'done2']);
  });

  it('takes either write absent', async () => {
    await expect(together(undefined, undefined)).resolves.toBeUndefined();
    await expect(together(Promise.resolve(), undefined)).resolves.toBeUndefined();
    await expect(together(undefined, Promise.reject(new Error('b')))).rejects.toThrow('b');
  });

  it('throws the first failure in argument order after both settled; a failure of the second while the first runs is handled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      let aDone = false;
      const p = together(later(30, () => void (aDone = true)), Promise.reject(new Error('b failed')));
      await new Promise((r) => setTimeout(r, 10)); // b's rejection sits while a runs
      await expect(p).rejects.toThrow('b failed');
      expect(aDone).toBe(true);
      await expect(together(later(10, () => { throw new Error('a failed'); }), Promise.reject(new Error('b failed')))).rejects.toThrow('a failed');
      await expect(together(later(1, () => { throw new Error('a failed'); }), later(10, () => void 0))).rejects.toThrow('a failed');
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
