/**
 * Which nameplates and mailboxes of one app have expired, sans I/O (the
 * rules delete them). Touches subscribed mailboxes as a side effect: a
 * mailbox somebody listens to counts as used now.
 */
import type { App, Nameplate } from './state.js';

export interface ExpiryTimes {
  /** Untouched since then: expired (Python's 11 minutes). */
  readonly old: number;
  /** A single-side nameplate with no subscriber untouched since then: expired. */
  readonly unclaimedOld: number;
  /** A mailbox created before then: expired, subscribed or not. */
  readonly born: number;
}

/** The expired mailbox ids and nameplates of `app` at `now`. */
export function expiredIn(app: App, now: number, t: ExpiryTimes): { mailboxes: Set<string>; nameplates: Nameplate[] } {
  const mailboxes = new Set<string>();
  for (const mailbox of app.mailboxes.values()) {
    if (mailbox.created <= t.born) mailboxes.add(mailbox.id);
    else if (mailbox.listeners.size > 0) mailbox.updated = now;
    else if (mailbox.updated <= t.old) mailboxes.add(mailbox.id);
  }
  const nameplates: Nameplate[] = [];
  for (const nameplate of app.nameplates.values()) {
    const mailbox = app.mailboxes.get(nameplate.mailbox);
    const orphan = !mailbox && nameplate.updated <= t.old;
    const unclaimed = nameplate.sides.size < 2 && mailbox?.listeners.size === 0 && Math.max(nameplate.updated, mailbox.updated) <= t.unclaimedOld;
    if (unclaimed && mailbox.sides.size < 2) mailboxes.add(mailbox.id);
    if (mailboxes.has(nameplate.mailbox) || orphan || unclaimed) nameplates.push(nameplate);
  }
  return { mailboxes, nameplates };
}
