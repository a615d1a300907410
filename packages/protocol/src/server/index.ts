/**
 * @burrow/protocol/server — the server sides of the wormhole protocols,
 * sans I/O: the mailbox server ({@link MailboxCore} over
 * {@link MailboxRules}, its frames and stored model) and the transit relay's
 * handshake grammar. A separate entry so client bundles never carry them.
 * It imports nothing outside this package (no @noble), so the Deno listener
 * loads it through a two-line import map; TURN credentials (HMAC-SHA1) are
 * in `@burrow/protocol/turn`.
 *
 *   const core = new MailboxCore({ random, now: Date.now() });
 *   const { conn, effects } = core.connect('192.0.2.1', Date.now());
 *   for (const e of core.receive(conn, frame, Date.now())) if (e.type === 'send') send(e.to, e.frame);
 */
export { MailboxCore } from './core.js';
export type { ConnId, LogLevel, MailboxCoreOptions, MailboxCoreStats, MailboxEffect, WelcomeOptions } from './core.js';
export { MailboxRules } from './rules.js';
export { ERR_PERMISSION_REQUIRED, PERMISSION_WELCOME_KEY, SUBMIT_PERMISSIONS, SUBMIT_PERMISSION_SINGULAR, type PermissionPolicy } from './permission.js';
export type { ListenerId, PruneResult, RulesOptions, RulesStats } from './rules.js';
export * from './limits.js';
export { addressScopes, CountBudget, RateBudget } from './budget.js';
export type { BudgetScope, RateLimits, ScopeLimits } from './budget.js';
export { mailboxUsage, nameplateUsage } from './usage.js';
export type { UsageFacts, UsageMood, UsageRecord } from './usage.js';
export { mailboxId, pickNameplate } from './ids.js';
export { encodeServerFrame, get, has, parseClientFrame, MAX_CLIENT_FRAME_CONTAINERS, MAX_CLIENT_FRAME_DEPTH } from './frames.js';
export type { ClientFrame, ClientFrameRefusal, ParseResult, ServerFrame } from './frames.js';
export * from './model.js';
export * from '../transit/relay-handshake.js';
