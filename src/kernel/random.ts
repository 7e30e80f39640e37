/**
 * Fresh random bytes from one pool refilled 4 KiB at a time: one call into the CSPRNG per
 * refill instead of one per id, SIP tag/branch/Call-ID or nonce salt (a system call each,
 * issue #4). Every byte is handed out once.
 */
import { randomFillSync } from 'node:crypto';

export const RANDOM_POOL_BYTES = 4096;
const pool = Buffer.alloc(RANDOM_POOL_BYTES);
let poolAt = RANDOM_POOL_BYTES;

/** The offset in `pool` of `n` (≤ 4096) fresh bytes. */
function take(n: number): number {
  if (n > RANDOM_POOL_BYTES) throw new RangeError(`at most ${RANDOM_POOL_BYTES} random bytes at a time (${n})`);
  if (poolAt + n > RANDOM_POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const from = poolAt;
  poolAt += n;
  return from;
}

/** Writes `n` fresh random bytes into `target` at `offset`. */
export function randomInto(target: Uint8Array, offset: number, n: number): void {
  const from = take(n);
  pool.copy(target, offset, from, from + n);
}

/** `n` fresh random bytes as lowercase hexadecimal (2n characters). */
export function randomHex(n: number): string {
  const from = take(n);
  return pool.toString('hex', from, from + n);
}
