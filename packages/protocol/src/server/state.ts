/**
 * The mailbox rules' live records (maps and sets, with the bookkeeping the
 * stored model leaves out: listeners, owners, touch times) and their
 * conversion to and from the stored model of ./model.ts.
 */
import type { StoredMailbox, StoredMailboxHeader, StoredNameplate, StoredState } from './model.js';
import type { StoredMessage } from './model.js';

/** A subscriber to a mailbox: the id of a client connection. */
export type ListenerId = number;

export interface NameplateSide {
  claimed: boolean;
  readonly added: number;
}
export interface Nameplate {
  readonly name: string;
  readonly mailbox: string;
  readonly sides: Map<string, NameplateSide>;
  updated: number;
  /** The client address charged for creating it (not persisted). */
  readonly owner: string | undefined;
  /** A third side was turned away (for the usage record; not persisted). */
  crowded: boolean;
}
export interface MailboxSide {
  open: boolean;
  mood: string | null;
  readonly added: number;
}
export interface Mailbox {
  readonly id: string;
  readonly forNameplate: boolean;
  readonly sides: Map<string, MailboxSide>;
  readonly messages: StoredMessage[];
  chars: number;
  updated: number;
  readonly listeners: Set<ListenerId>;
  readonly owner: string | undefined;
  /** When it was created (restored: when restored), ms. */
  readonly created: number;
  /** Characters stored, by the address that added them (not persisted: restored ones are charged to nobody). */
  readonly charges: Map<string, number>;
  /** A third side was turned away (for the usage record; not persisted). */
  crowded: boolean;
}
export interface App {
  readonly nameplates: Map<string, Nameplate>;
  readonly mailboxes: Map<string, Mailbox>;
}

/** A live nameplate as a stored record. */
export function storedNameplate(appid: string, n: Nameplate): StoredNameplate {
  return {
    app: appid,
    name: n.name,
    mailbox: n.mailbox,
    sides: [...n.sides].map(([side, s]) => ({ side, claimed: s.claimed, added: s.added })),
  };
}

/** A live mailbox's header (everything but its messages) as a stored record. */
export function storedMailboxHeader(appid: string, m: Mailbox): StoredMailboxHeader {
  return {
    app: appid,
    id: m.id,
    forNameplate: m.forNameplate,
    sides: [...m.sides].map(([side, s]) => ({ side, open: s.open, mood: s.mood, added: s.added })),
  };
}

/** A new, empty mailbox, created at `now` and charged to `owner`. */
export function newMailbox(id: string, forNameplate: boolean, owner: string | undefined, now: number): Mailbox {
  return { id, forNameplate, sides: new Map(), messages: [], chars: 0, updated: 0, listeners: new Set(), owner, created: now, charges: new Map(), crowded: false };
}

/** A new nameplate pointing at `mailbox`, charged to `owner`. */
export function newNameplate(name: string, mailbox: string, owner: string, now: number): Nameplate {
  return { name, mailbox, sides: new Map(), updated: now, owner, crowded: false };
}

/** Messages held and subscribers, over all apps. */
export function countMessages(apps: ReadonlyMap<string, App>): { messages: number; listeners: number } {
  let messages = 0;
  let listeners = 0;
  for (const app of apps.values()) {
    for (const mailbox of app.mailboxes.values()) {
      messages += mailbox.messages.length;
      listeners += mailbox.listeners.size;
    }
  }
  return { messages, listeners };
}

/** A stored mailbox made live, touched at `now`, charged to nobody. */
export function liveMailbox(m: StoredMailbox, now: number): Mailbox {
  return {
    id: m.id,
    forNameplate: m.forNameplate,
    sides: new Map(m.sides.map((s) => [s.side, { open: s.open, mood: s.mood, added: s.added }])),
    messages: [...m.messages],
    chars: m.messages.reduce((n, msg) => n + msg.phase.length + msg.body.length, 0),
    updated: now,
    listeners: new Set(),
    owner: undefined,
    created: now,
    charges: new Map(),
    crowded: false,
  };
}

/** A stored nameplate made live, touched at `now`, charged to nobody. */
export function liveNameplate(n: StoredNameplate, now: number): Nameplate {
  return {
    name: n.name,
    mailbox: n.mailbox,
    sides: new Map(n.sides.map((s) => [s.side, { claimed: s.claimed, added: s.added }])),
    updated: now,
    owner: undefined,
    crowded: false,
  };
}

/** Everything live, as the stored model (what a store would hold now). */
export function snapshotApps(apps: ReadonlyMap<string, App>): StoredState {
  const nameplates: StoredNameplate[] = [];
  const mailboxes: StoredMailbox[] = [];
  for (const [appid, app] of apps) {
    for (const n of app.nameplates.values()) nameplates.push(storedNameplate(appid, n));
    for (const m of app.mailboxes.values()) mailboxes.push({ ...storedMailboxHeader(appid, m), messages: [...m.messages] });
  }
  return { nameplates, mailboxes };
}
