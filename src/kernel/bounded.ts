/**
 * Forgetting the oldest entries of a `Map` (insertion order) in batches. A `Map` keeps a deleted
 * entry's slot until it rehashes, and `keys().next()` walks over those slots: deleting the first
 * entry on every insertion past a bound made each insertion walk the slots of all the entries
 * deleted before it — ≈ 11 µs per insertion at 100 000 entries instead of 0.3 µs (issue #4: the
 * nonce-counts of a node past 100 000 REGISTERs, 2–3 % of its main thread in bench:sip). Forgetting
 * a tenth of the bound at once walks those slots once per tenth: O(1) per insertion on average.
 */
export function forgetOldest<K, V>(map: Map<K, V>, count: number): void {
  let left = count;
  for (const key of map.keys()) {
    if (left <= 0) return;
    map.delete(key);
    left -= 1;
  }
}

/** How many entries `forgetOldest` drops when a map bounded to `max` outgrows it: a tenth, at least one. */
export const evictionBatch = (max: number): number => Math.max(1, Math.floor(max / 10));
