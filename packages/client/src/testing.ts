/**
 * @burrow/client/testing — helpers for tests of code built on Burrow:
 * in-memory mailboxes, connection pairs and hubs, and the connectors'
 * internals. Not part of the happy path; kept out of the main entry so its
 * API stays readable.
 */
export {};
