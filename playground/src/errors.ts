/** Plain-words explanations for the error codes a person can meet. */
import { isWormholeError } from '@burrow/client';

const WORDS: Record<string, string> = {
  WrongPassword: 'The codes did not match. Check the code with the other person and try again.',
  Lonely: 'The other side never arrived.',
  PeerClosed: 'The other side left before the transfer finished.',
  Crowded: 'Someone else is already using this code. Ask for a new one.',
  Connection: 'Could not reach the mailbox server. Check the mailbox setting above.',
  ServerError: 'The mailbox server reported a problem.',
  Welcome: 'The mailbox server refused this client.',
  InvalidCode: 'That does not look like a code: a number, a dash, then words (like 7-guitarist-revenge).',
  Timeout: 'This took too long and was stopped.',
  Aborted: 'Cancelled.',
  Rejected: 'The other side declined.',
  TransferFailed: 'The transfer broke off; nothing was saved as complete.',
  RemoteProtocol: 'The other side sent something unexpected.',
  ServerProtocol: 'The mailbox server sent something unexpected.',
};

export function explain(err: unknown): string {
  if (isWormholeError(err)) return `${WORDS[err.code] ?? err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}
