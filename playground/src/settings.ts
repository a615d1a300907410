/** Where the mailbox is: ?mailbox=, then the saved setting, then the gateway this page came with. */
const KEY = 'burrow.mailbox';

export function defaultMailbox(): string {
  const fromBuild = import.meta.env['VITE_BURROW_MAILBOX'] as string | undefined;
  return fromBuild || `ws://${location.hostname || '127.0.0.1'}:4000/v1`;
}

export function currentMailbox(): string {
  const fromQuery = new URLSearchParams(location.search).get('mailbox');
  return fromQuery || localStorage.getItem(KEY) || defaultMailbox();
}

export function saveMailbox(url: string | null): void {
  if (url) localStorage.setItem(KEY, url);
  else localStorage.removeItem(KEY);
}
