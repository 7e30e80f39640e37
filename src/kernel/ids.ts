import { getRandomValues } from 'node:crypto';
import { randomInto } from './random.ts';

/** Letters and digits: 62 symbols, ≈ 5.95 bits each (a 20-character SIP password carries ≈ 119 bits). */
export const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

let lastMs = -1;
let lastSeq = 0;

/** The id being assembled: bytes 0–5 stamp, 6–7 version and sequence, 8–15 random. */
const id = Buffer.alloc(16);

/**
 * A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit sequence that
 * starts at a random value below 2048 each millisecond (method 1), then 62 random bits.
 * Ids made by this process sort in creation order, even within one millisecond and
 * if the clock steps back. `at` lets a simulated clock stamp the ids.
 */
export function newId(at: Date = new Date()): string {
  const requested = at.getTime();
  if (!Number.isInteger(requested) || requested < 0) throw new RangeError(`cannot stamp an id at ${requested}`);
  // Bytes 6–7: the random start of a new millisecond's sequence; 8–15: the random tail
  // (the shared pool of kernel/random.ts: an id is made per CDR and per policy decision).
  randomInto(id, 6, 10);
  let ms = Math.max(requested, lastMs);
  let seq: number;
  if (ms === lastMs) {
    seq = lastSeq + 1;
    if (seq > 0xfff) {
      ms += 1; // sequence exhausted: borrow the next millisecond
      seq = 0;
    }
  } else {
    seq = ((id[6]! << 8) | id[7]!) & 0x7ff;
  }
  if (ms >= 2 ** 48) throw new RangeError(`cannot stamp an id at ${requested}`);
  lastMs = ms;
  lastSeq = seq;
  for (let i = 5, t = ms; i >= 0; i--, t = Math.floor(t / 256)) id[i] = t % 256;
  id[6] = 0x70 | (seq >> 8); // version 7
  id[7] = seq & 0xff;
  id[8] = (id[8]! & 0x3f) | 0x80; // variant 10
  const hex = id.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * `length` characters drawn uniformly from `alphabet` (distinct characters, 2 to 256) by
 * rejection sampling, so no symbol is favoured (§4.4/§6.2: SIP passwords ≥ 20 characters; tokens).
 */
export function randomSecret(length: number, alphabet: string = ALPHANUMERIC): string {
  if (!Number.isSafeInteger(length) || length < 1) throw new RangeError(`secret length must be a positive integer, got ${length}`);
  const symbols = Array.from(alphabet);
  if (symbols.length < 2 || symbols.length > 256 || new Set(symbols).size !== symbols.length) {
    throw new RangeError('the alphabet must hold 2 to 256 distinct characters');
  }
  const limit = 256 - (256 % symbols.length); // bytes ≥ limit would bias the low symbols
  const secret: string[] = [];
  while (secret.length < length) {
    for (const byte of getRandomValues(new Uint8Array(Math.min(length - secret.length, 65_536)))) {
      if (byte < limit) secret.push(symbols[byte % symbols.length]!);
    }
  }
  return secret.join('');
}
