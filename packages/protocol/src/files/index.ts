/**
 * `@burrow/protocol/files`: files-v1, Burrow's file transfer between Burrow
 * peers over `connect()` streams (loaded only when files are sent).
 */
export * from './messages.js';
