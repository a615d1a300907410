/**
 * What the mailbox rules hold, counted: nameplates, mailboxes and stored
 * characters in total, and allocations and stored characters per client
 * address and prefix ({@link CountBudget}). Every refusal names the bound
 * that caused it (`MailboxRuleError.limit`), for logs and metrics.
 */
import { CountBudget } from './budget.js';
import {
  ERR_ADDRESS_FULL,
  ERR_ADDRESS_STORED,
  ERR_PREFIX_FULL,
  ERR_PREFIX_STORED,
  ERR_SERVER_FULL,
  MailboxRuleError,
  type RuleLimits,
} from './limits.js';

export class RulesLedger {
  nameplates = 0;
  mailboxes = 0;
  chars = 0;
  readonly #limits: RuleLimits;
  readonly #allocations: CountBudget;
  readonly #stored: CountBudget;

  constructor(limits: RuleLimits) {
    this.#limits = limits;
    this.#allocations = new CountBudget({ perAddress: limits.maxAllocationsPerAddress, perPrefix: limits.maxAllocationsPerPrefix });
    this.#stored = new CountBudget({ perAddress: limits.maxCharsPerAddress, perPrefix: limits.maxCharsPerPrefix });
  }

  /** Addresses and prefixes with allocations charged to them. */
  get owners(): number {
    return this.#allocations.keys;
  }

  /** Throw unless one more nameplate or mailbox fits (charged: counted against `owner` too). */
  checkCapacity(kind: 'nameplate' | 'mailbox', owner: string, charged: boolean): void {
    if (kind === 'nameplate' && this.nameplates >= this.#limits.maxNameplates) throw new MailboxRuleError(ERR_SERVER_FULL, 'nameplates.total');
    if (this.mailboxes >= this.#limits.maxMailboxes) throw new MailboxRuleError(ERR_SERVER_FULL, 'mailboxes.total');
    if (!charged) return;
    const over = this.#allocations.check(owner);
    if (over === 'address') throw new MailboxRuleError(ERR_ADDRESS_FULL, 'allocations.address');
    if (over === 'prefix') throw new MailboxRuleError(ERR_PREFIX_FULL, 'allocations.prefix');
  }

  /** Count one allocation against `owner` (nobody: restored or uncharged). */
  allocate(owner: string | undefined): void {
    if (owner !== undefined) this.#allocations.force(owner);
  }

  free(owner: string | undefined): void {
    if (owner !== undefined) this.#allocations.release(owner);
  }

  /** Store `n` characters for `owner`, or throw naming the bound it would break. */
  store(owner: string | undefined, n: number): void {
    if (this.chars + n > this.#limits.maxTotalChars) throw new MailboxRuleError(ERR_SERVER_FULL, 'stored.total');
    if (owner !== undefined) {
      const over = this.#stored.charge(owner, n);
      if (over === 'address') throw new MailboxRuleError(ERR_ADDRESS_STORED, 'stored.address');
      if (over === 'prefix') throw new MailboxRuleError(ERR_PREFIX_STORED, 'stored.prefix');
    }
    this.chars += n;
  }

  /** Give back a deleted mailbox's characters: `total`, of which `charges` per owner. */
  unstore(total: number, charges: ReadonlyMap<string, number>): void {
    this.chars -= total;
    for (const [owner, n] of charges) this.#stored.release(owner, n);
  }
}
