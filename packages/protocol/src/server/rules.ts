/**
 * The mailbox server's rules, sans I/O: nameplates, mailboxes, sides,
 * messages, expiry. A port of wormhole_mailbox_server/server.py (0.4.1)
 * onto in-memory maps, plus the bounds the Python server lacks.
 *
 * - A nameplate is a short name ("4") pointing at a mailbox. Claiming an
 *   unknown nameplate creates it and a fresh mailbox; at most two sides may
 *   claim one ("crowded"), and a side that released it may not claim it again
 *   ("reclaimed"). It is deleted when every side that claimed it released it.
 * - A mailbox holds the messages both sides `add`. At most two sides may open
 *   it ("crowded"); it is deleted, messages and all, when every side that
 *   opened it has closed it. Re-opening and re-closing are allowed (clients
 *   re-send `close` after a reconnect until they see `closed`).
 * - Anything untouched for `expiryMs` (11 minutes in Python) is pruned;
 *   a mailbox with a subscriber counts as touched (see ./expiry.ts).
 * - Each deleted nameplate and mailbox leaves a {@link UsageRecord}.
 *
 * Differences from Python, all deliberate:
 * - A side turned away as "crowded" leaves no trace (Python records it,
 *   which makes the two legitimate sides "crowded" on their next reconnect
 *   and keeps the mailbox alive until pruned).
 * - Nameplates whose mailbox is gone are pruned too (Python keeps them).
 * - Bounds: totals, allocations and stored characters per address and
 *   prefix ({@link RulesLedger}), messages and bytes per mailbox; abandoned
 *   allocations and old mailboxes expire.
 *
 * Time (`now`, ms) and randomness are passed in; every change to stored
 * records is queued for the store (`takeChanges`).
 */
import type { RandomSource } from '../logger.js';
import { mailboxId, pickNameplate } from './ids.js';
import { DEFAULT_RULE_LIMITS, ERR_CROWDED, ERR_MAILBOX_FULL, ERR_RECLAIMED, MailboxRuleError, type RuleLimits } from './limits.js';
import { RulesLedger } from './ledger.js';
import { expiredIn } from './expiry.js';
import { mailboxUsage, nameplateUsage, type UsageRecord } from './usage.js';
import type { StoreChange, StoredMessage, StoredState } from './model.js';
import { countMessages, liveMailbox, liveNameplate, newMailbox, newNameplate, snapshotApps, storedMailboxHeader, storedNameplate, type App, type ListenerId, type Mailbox, type Nameplate } from './state.js';

export type { ListenerId } from './state.js';

export interface RulesOptions {
  /** `n` random bytes. */
  readonly random: RandomSource;
  readonly limits?: Partial<RuleLimits>;
}

export interface RulesStats {
  apps: number;
  nameplates: number;
  mailboxes: number;
  messages: number;
  listeners: number;
  /** Client addresses and prefixes with allocations charged to them. */
  owners: number;
  /** Characters of phase + body held in all mailboxes. */
  chars: number;
}

export interface PruneResult {
  nameplates: number;
  mailboxes: number;
}

export class MailboxRules {
  readonly #random: RandomSource;
  readonly #limits: RuleLimits;
  readonly #apps = new Map<string, App>();
  readonly #ledger: RulesLedger;
  #changes: StoreChange[] = [];
  #usage: UsageRecord[] = [];

  constructor(options: RulesOptions) {
    this.#random = options.random;
    this.#limits = { ...DEFAULT_RULE_LIMITS, ...options.limits };
    this.#ledger = new RulesLedger(this.#limits);
  }

  /**
   * Load stored records (at start). Everything restored counts as touched
   * at `now`, so clients get a full expiry period to reconnect.
   */
  restore(state: StoredState, now: number): void {
    for (const m of state.mailboxes) {
      const app = this.#app(m.app);
      if (app.mailboxes.has(m.id)) continue;
      const mailbox = liveMailbox(m, now);
      app.mailboxes.set(m.id, mailbox);
      this.#ledger.mailboxes++;
      this.#ledger.chars += mailbox.chars;
    }
    for (const n of state.nameplates) {
      const app = this.#app(n.app);
      if (app.nameplates.has(n.name)) continue;
      app.nameplates.set(n.name, liveNameplate(n, now));
      this.#ledger.nameplates++;
    }
  }

  /**
   * Everything held now, as the stored model: for tests and tools that
   * inspect the server (a store keeps its own copy from {@link takeChanges}).
   */
  snapshot(): StoredState {
    return snapshotApps(this.#apps);
  }

  /** Usage records of nameplates and mailboxes deleted since the last call. */
  takeUsage(): UsageRecord[] {
    const out = this.#usage;
    this.#usage = [];
    return out;
  }

  /** Changes to stored records since the last call, in order. */
  takeChanges(): StoreChange[] {
    const out = this.#changes;
    this.#changes = [];
    return out;
  }

  /** Nameplate ids of `appid`, sorted (the `list` answer). */
  nameplateIds(appid: string): string[] {
    const app = this.#apps.get(appid);
    return app ? [...app.nameplates.keys()].sort() : [];
  }

  /**
   * `allocate`: pick a free nameplate — a random free one among 1–9, else
   * 10–99, else 100–999, else random guesses up to 999999 — and claim it for
   * `side`, as Python does.
   */
  allocate(appid: string, side: string, now: number, owner: string): string {
    const name = pickNameplate(this.#random, this.#apps.get(appid)?.nameplates);
    this.claim(appid, name, side, now, owner);
    return name;
  }

  /**
   * `claim`: reserve `name` for `side`, creating it (and its mailbox) if
   * new, and open the mailbox for `side`. Returns the mailbox id. Idempotent
   * for a side that holds the claim.
   */
  claim(appid: string, name: string, side: string, now: number, owner: string): string {
    try {
      return this.#claim(appid, name, side, now, owner);
    } catch (err) {
      this.#forgetIfEmpty(appid);
      throw err;
    }
  }

  #claim(appid: string, name: string, side: string, now: number, owner: string): string {
    const app = this.#app(appid);
    let nameplate = app.nameplates.get(name);
    const mine = nameplate?.sides.get(side);
    if (mine && !mine.claimed) throw new MailboxRuleError(ERR_RECLAIMED);
    if (nameplate && !mine && nameplate.sides.size >= 2) {
      nameplate.crowded = true;
      throw new MailboxRuleError(ERR_CROWDED);
    }
    if (nameplate) {
      const mailbox = app.mailboxes.get(nameplate.mailbox);
      if (mailbox) {
        this.#checkOpen(mailbox, side);
      } else {
        // Both sides closed the mailbox but the nameplate lingers: Python
        // re-creates the mailbox on open; charge nobody, the nameplate is.
        this.#ledger.checkCapacity('mailbox', owner, false);
        this.#createMailbox(app, appid, nameplate.mailbox, false, undefined, now);
      }
    } else {
      this.#ledger.checkCapacity('nameplate', owner, true);
      nameplate = newNameplate(name, this.#freshMailboxId(app), owner, now);
      app.nameplates.set(name, nameplate);
      this.#ledger.nameplates++;
      this.#ledger.allocate(owner);
      this.#createMailbox(app, appid, nameplate.mailbox, true, undefined, now);
    }
    nameplate.updated = now;
    if (!mine) {
      nameplate.sides.set(side, { claimed: true, added: now });
      this.#saveNameplate(appid, nameplate);
    }
    this.#open(appid, nameplate.mailbox, side, now, owner);
    return nameplate.mailbox;
  }

  /** `release`: drop `side`'s claim; delete the nameplate once nobody claims it. */
  release(appid: string, name: string, side: string, now: number): void {
    const app = this.#apps.get(appid);
    const nameplate = app?.nameplates.get(name);
    const mine = nameplate?.sides.get(side);
    if (!app || !nameplate || !mine) return;
    mine.claimed = false;
    nameplate.updated = now;
    if ([...nameplate.sides.values()].some((s) => s.claimed)) {
      this.#saveNameplate(appid, nameplate);
      return;
    }
    this.#deleteNameplate(appid, app, nameplate, now, false);
  }

  /**
   * `open`: make sure mailbox `id` exists (creating it if unknown) and that
   * `side` is one of its (at most two) sides.
   */
  open(appid: string, id: string, side: string, now: number, owner: string): void {
    try {
      this.#open(appid, id, side, now, owner);
    } catch (err) {
      this.#forgetIfEmpty(appid);
      throw err;
    }
  }

  #open(appid: string, id: string, side: string, now: number, owner: string): void {
    const app = this.#app(appid);
    let mailbox = app.mailboxes.get(id);
    if (mailbox) {
      this.#checkOpen(mailbox, side);
    } else {
      this.#ledger.checkCapacity('mailbox', owner, true);
      mailbox = this.#createMailbox(app, appid, id, false, owner, now);
    }
    mailbox.updated = now;
    if (!mailbox.sides.has(side)) {
      mailbox.sides.set(side, { open: true, mood: null, added: now });
      this.#saveMailbox(appid, mailbox);
    }
  }

  /** Subscribe `listener` to an open mailbox; returns the messages so far, oldest first. */
  subscribe(appid: string, id: string, listener: ListenerId): readonly StoredMessage[] {
    const mailbox = this.#apps.get(appid)?.mailboxes.get(id);
    if (!mailbox) return [];
    mailbox.listeners.add(listener);
    return [...mailbox.messages];
  }

  unsubscribe(appid: string, id: string, listener: ListenerId): void {
    this.#apps.get(appid)?.mailboxes.get(id)?.listeners.delete(listener);
  }

  /**
   * `add`: append a message and return who must hear it (every subscriber,
   * the sender's own connection included). A mailbox deleted under the
   * sender (both sides closed) swallows the message, as in Python. The
   * characters are charged to `owner` (the sender's address).
   */
  add(appid: string, id: string, message: StoredMessage, owner?: string): readonly ListenerId[] {
    const mailbox = this.#apps.get(appid)?.mailboxes.get(id);
    if (!mailbox) return [];
    const chars = message.phase.length + message.body.length;
    if (
      mailbox.messages.length >= this.#limits.maxMessagesPerMailbox ||
      mailbox.chars + chars > this.#limits.maxMailboxChars
    ) {
      throw new MailboxRuleError(ERR_MAILBOX_FULL, 'mailbox.size');
    }
    this.#ledger.store(owner, chars);
    if (owner !== undefined) mailbox.charges.set(owner, (mailbox.charges.get(owner) ?? 0) + chars);
    mailbox.messages.push(message);
    mailbox.chars += chars;
    mailbox.updated = message.serverRx;
    this.#changes.push({ type: 'message', app: appid, mailbox: id, message });
    return [...mailbox.listeners];
  }

  /**
   * `close`: mark `side` closed with its mood; once no side is open, delete
   * the mailbox and its messages. Unknown mailboxes and sides are ignored.
   */
  close(appid: string, id: string, side: string, mood: string | null, now: number): void {
    const app = this.#apps.get(appid);
    const mailbox = app?.mailboxes.get(id);
    const mine = mailbox?.sides.get(side);
    if (!app || !mailbox || !mine) return;
    mine.open = false;
    mine.mood = mood;
    mailbox.updated = now;
    if ([...mailbox.sides.values()].some((s) => s.open)) {
      this.#saveMailbox(appid, mailbox);
      return;
    }
    this.#deleteMailbox(appid, app, mailbox, now, false);
  }

  /** Whether mailbox `id` of `appid` exists. */
  hasMailbox(appid: string, id: string): boolean {
    return this.#apps.get(appid)?.mailboxes.has(id) ?? false;
  }

  /**
   * Delete what nobody touched since `now - expiryMs`: mailboxes (a
   * subscribed one counts as touched now), the nameplates pointing at them,
   * and nameplates whose mailbox is gone. Also what outlived its limits:
   * single-side nameplates with no subscriber after `unclaimedExpiryMs`,
   * any mailbox after `maxMailboxAgeMs`.
   */
  prune(now: number, expiryMs: number): PruneResult {
    const times = { old: now - expiryMs, unclaimedOld: now - this.#limits.unclaimedExpiryMs, born: now - this.#limits.maxMailboxAgeMs };
    const result: PruneResult = { nameplates: 0, mailboxes: 0 };
    for (const [appid, app] of [...this.#apps]) {
      const expired = expiredIn(app, now, times);
      for (const nameplate of expired.nameplates) this.#deleteNameplate(appid, app, nameplate, now, true);
      result.nameplates += expired.nameplates.length;
      for (const id of expired.mailboxes) {
        const mailbox = app.mailboxes.get(id);
        if (mailbox) {
          this.#deleteMailbox(appid, app, mailbox, now, true);
          result.mailboxes++;
        }
      }
    }
    return result;
  }

  stats(): RulesStats {
    return {
      ...countMessages(this.#apps),
      apps: this.#apps.size,
      nameplates: this.#ledger.nameplates,
      mailboxes: this.#ledger.mailboxes,
      owners: this.#ledger.owners,
      chars: this.#ledger.chars,
    };
  }

  #app(appid: string): App {
    let app = this.#apps.get(appid);
    if (!app) {
      app = { nameplates: new Map(), mailboxes: new Map() };
      this.#apps.set(appid, app);
    }
    return app;
  }

  /** Forget an app with nothing in it, so random appids cannot pile up. */
  #dropIfEmpty(appid: string, app: App): void {
    if (app.nameplates.size === 0 && app.mailboxes.size === 0) this.#apps.delete(appid);
  }

  /** Drop the app entry `appid` if a refused request left it empty. */
  #forgetIfEmpty(appid: string): void {
    const app = this.#apps.get(appid);
    if (app) this.#dropIfEmpty(appid, app);
  }

  #checkOpen(mailbox: Mailbox, side: string): void {
    if (!mailbox.sides.has(side) && mailbox.sides.size >= 2) {
      mailbox.crowded = true;
      throw new MailboxRuleError(ERR_CROWDED);
    }
  }

  #freshMailboxId(app: App): string {
    for (;;) {
      const id = mailboxId(this.#random);
      if (!app.mailboxes.has(id)) return id;
    }
  }

  #createMailbox(app: App, appid: string, id: string, forNameplate: boolean, owner: string | undefined, now: number): Mailbox {
    const mailbox = newMailbox(id, forNameplate, owner, now);
    app.mailboxes.set(id, mailbox);
    this.#ledger.mailboxes++;
    this.#ledger.allocate(owner);
    this.#saveMailbox(appid, mailbox);
    return mailbox;
  }

  #deleteNameplate(appid: string, app: App, nameplate: Nameplate, now: number, pruned: boolean): void {
    app.nameplates.delete(nameplate.name);
    this.#ledger.nameplates--;
    this.#ledger.free(nameplate.owner);
    const added = [...nameplate.sides.values()].map((s) => s.added);
    this.#usage.push(nameplateUsage(appid, { added, deleted: now, pruned, crowded: nameplate.crowded }));
    this.#changes.push({ type: 'nameplate-removed', app: appid, name: nameplate.name });
    this.#dropIfEmpty(appid, app);
  }

  #deleteMailbox(appid: string, app: App, mailbox: Mailbox, now: number, pruned: boolean): void {
    app.mailboxes.delete(mailbox.id);
    mailbox.listeners.clear();
    this.#ledger.mailboxes--;
    this.#ledger.unstore(mailbox.chars, mailbox.charges);
    this.#ledger.free(mailbox.owner);
    const sides = [...mailbox.sides.values()];
    this.#usage.push(
      mailboxUsage(appid, mailbox.forNameplate, { added: sides.map((s) => s.added), moods: sides.map((s) => s.mood), deleted: now, pruned, crowded: mailbox.crowded }),
    );
    this.#changes.push({ type: 'mailbox-removed', app: appid, id: mailbox.id });
    this.#dropIfEmpty(appid, app);
  }

  #saveNameplate(appid: string, n: Nameplate): void {
    this.#changes.push({ type: 'nameplate', nameplate: storedNameplate(appid, n) });
  }

  #saveMailbox(appid: string, m: Mailbox): void {
    this.#changes.push({ type: 'mailbox', mailbox: storedMailboxHeader(appid, m) });
  }
}