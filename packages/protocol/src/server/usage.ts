/**
 * Usage records, like the Python server's usage database (its `nameplates`
 * and `mailboxes` tables): one record per nameplate or mailbox when it is
 * deleted, saying how long the first side waited for the second, how long
 * the whole thing lived and how it went. No codes, sides, keys or bodies:
 * only the app id, times and the outcome.
 *
 * Outcomes (wormhole_mailbox_server/server.py, `_summarize_*`):
 * - `happy`: two sides met; `lonely`: only one came (or a side closed with
 *   mood "lonely"); `errory` / `scary`: a side closed with that mood;
 *   `pruney`: expired instead of being closed/released; `crowded`: a third
 *   side tried to join (Python records the third side; we turn it away and
 *   remember only that it came).
 */

export type UsageMood = 'happy' | 'lonely' | 'pruney' | 'crowded' | 'scary' | 'errory' | 'quiet';

export interface UsageRecord {
  readonly kind: 'nameplate' | 'mailbox';
  readonly app: string;
  /** Mailboxes: created by a nameplate claim (vs. an `open` of a bare id). */
  readonly forNameplate?: boolean;
  /** When the first side came, seconds since the epoch. */
  readonly started: number;
  /** Seconds between the first and the second side (null: no second side). */
  readonly waitingTime: number | null;
  /** Seconds from the first side to deletion. */
  readonly totalTime: number;
  readonly mood: UsageMood;
}

/** What a record is computed from. */
export interface UsageFacts {
  /** When each side came, ms. */
  readonly added: readonly number[];
  /** Moods the sides closed with (mailboxes). */
  readonly moods?: readonly (string | null)[];
  readonly deleted: number;
  readonly pruned: boolean;
  readonly crowded: boolean;
}

function times(facts: UsageFacts): { started: number; waitingTime: number | null; totalTime: number } {
  const t = [...facts.added].sort((a, b) => a - b);
  const first = t[0] ?? facts.deleted;
  return {
    started: first / 1000,
    waitingTime: t.length > 1 ? (t[1]! - first) / 1000 : null,
    totalTime: (facts.deleted - first) / 1000,
  };
}

/** A nameplate's record (Python's `_summarize_nameplate_usage`). */
export function nameplateUsage(app: string, facts: UsageFacts): UsageRecord {
  let mood: UsageMood = facts.added.length >= 2 ? 'happy' : 'lonely';
  if (facts.pruned) mood = 'pruney';
  if (facts.crowded || facts.added.length > 2) mood = 'crowded';
  return { kind: 'nameplate', app, ...times(facts), mood };
}

/** A mailbox's record (Python's `_summarize_mailbox`). */
export function mailboxUsage(app: string, forNameplate: boolean, facts: UsageFacts): UsageRecord {
  const n = facts.added.length;
  let mood: UsageMood = n === 0 ? 'quiet' : n === 1 ? 'lonely' : 'happy';
  const moods = facts.moods ?? [];
  if (moods.includes('lonely')) mood = 'lonely';
  if (moods.includes('errory')) mood = 'errory';
  if (moods.includes('scary')) mood = 'scary';
  if (facts.pruned) mood = 'pruney';
  if (facts.crowded || n > 2) mood = 'crowded';
  return { kind: 'mailbox', app, forNameplate, ...times(facts), mood };
}
