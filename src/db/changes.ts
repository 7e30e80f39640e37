/**
 * Change notices for the caches of the hot paths (SIP credentials, call-policy facts):
 * several SIP nodes share one PostgreSQL, each keeps what it reads in memory, and a
 * writer tells every node what to forget.
 *
 * A writer calls `notifyChange(tx, topic, key)` inside its transaction: PostgreSQL
 * delivers the NOTIFY to every listening process at commit (nothing if it rolls back);
 * the writer's own process also hears it at once, before the commit — a read in between
 * may cache the old value again, and the NOTIFY at commit clears it a moment later.
 * After a lost connection nothing tells what was missed: subscribers get `null`, which
 * means "forget everything of this topic".
 */
import { EventEmitter } from 'node:events';
import { sql } from 'drizzle-orm';
import type { Database, DbOrTx } from './client.ts';

export const CHANGES_CHANNEL = 'e2p_changes';

/** What a cache keeps; the key is the topic's own (a SIP username, a client id…). */
export type ChangeTopic = 'sip_user' | 'client';

/** In-process notices (every feed of the process hears them, whatever its database). */
const local = new EventEmitter();
local.setMaxListeners(0);

const encode = (topic: ChangeTopic, key: string): string => `${topic}:${key}`;

export async function notifyChange(db: DbOrTx, topic: ChangeTopic, key: string): Promise<void> {
  local.emit('change', encode(topic, key));
  await db.execute(sql`SELECT pg_notify(${CHANGES_CHANNEL}, ${encode(topic, key)})`);
}

export interface ChangeFeed {
  /** `onChange(key)` for every change of the topic; `onChange(null)`: forget everything. */
  on(topic: ChangeTopic, onChange: (key: string | null) => void): () => void;
  close(): Promise<void>;
}

export async function openChangeFeed(database: Pick<Database, 'listen'>): Promise<ChangeFeed> {
  const subscribers = new Map<string, Set<(key: string | null) => void>>();
  const dispatch = (payload: string): void => {
    const colon = payload.indexOf(':');
    if (colon < 0) return;
    const set = subscribers.get(payload.slice(0, colon));
    if (!set) return;
    const key = payload.slice(colon + 1);
    for (const fn of set) fn(key);
  };
  const forgetAll = (): void => {
    for (const set of subscribers.values()) for (const fn of set) fn(null);
  };
  local.on('change', dispatch);
  const unlisten = await database.listen(CHANGES_CHANNEL, dispatch, forgetAll);
  return {
    on(topic, onChange) {
      let set = subscribers.get(topic);
      if (!set) subscribers.set(topic, (set = new Set()));
      set.add(onChange);
      return () => set.delete(onChange);
    },
    async close() {
      local.off('change', dispatch);
      subscribers.clear();
      await unlisten();
    },
  };
}
