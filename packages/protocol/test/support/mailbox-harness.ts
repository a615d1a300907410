/**
 * The testkit's mailbox harness around the real `MailboxCore`
 * (`harness(options)`: a seeded core at a fixed time that tests move).
 */
import { mailboxHarness, type MailboxHarness } from '@burrow/testkit';
import { MailboxCore, type MailboxCoreOptions } from '../../src/server/index.js';

export { APPID, errors, openMailbox, rejoinRestored, type Frame, type TestClient } from '@burrow/testkit';

export type Harness = MailboxHarness<MailboxCore>;

export function harness(options: Partial<MailboxCoreOptions> = {}): Harness {
  return mailboxHarness((base) => new MailboxCore({ ...base, ...options }));
}
