/**
 * What the popup (a view) and the background (which owns the agent
 * connection) say to each other through `runtime.sendMessage`. The popup
 * asks; the background answers, and tells every open view when its status
 * changes.
 */
import type { NativePort } from '@burrow/agent/client';

/** A request from a view (`target: 'offscreen'`: forwarded by the background to its offscreen document). */
export type Request = RequestBody & { readonly target?: 'offscreen' };

type RequestBody =
  | { readonly op: 'state' }
  | { readonly op: 'pair'; readonly mailbox: string; readonly code: string }
  | { readonly op: 'connect' }
  | { readonly op: 'fetch'; readonly url: string; readonly body?: string }
  /** Fetch and hold the response: tell views `first-part` after its first chunk, answer once it ends (or fails). */
  | { readonly op: 'fetch-held'; readonly url: string }
  | { readonly op: 'forget' };

/** The background's answer: a value, or an error with its stable code. */
export type Reply = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly code?: string; readonly message: string };

/** What the status line shows. */
export interface Status {
  readonly text: string;
  readonly kind: 'ok' | 'error' | '';
}

/** The background's state, for a view that just opened. */
export interface State {
  readonly status: Status;
  readonly mailbox: string;
  /** The paired agent, if any: its name, endpoint and whether it was revoked. */
  readonly agent?: { readonly name: string; readonly endpoint?: string; readonly revoked: boolean };
  readonly connected: boolean;
}

/** Told to every open view. */
export type Notice = { readonly type: 'status'; readonly status: Status } | { readonly type: 'first-part' };

/** The WebExtension API object: `browser` in Firefox, `chrome` in Chromium (both promise-based in MV3). */
export interface ExtensionApi {
  runtime: {
    sendMessage(message: unknown): Promise<unknown>;
    /** Native messaging (absent in an offscreen document). */
    connectNative?(application: string): NativePort;
    onMessage: { addListener(listener: (message: unknown, sender: unknown, sendResponse: (reply: unknown) => void) => boolean | undefined): void };
  };
  /** Absent in an offscreen document. */
  storage?: { session: { get(key: string): Promise<Record<string, unknown>>; set(items: Record<string, unknown>): Promise<void> } };
  /** Chromium only. */
  offscreen?: { createDocument(o: { url: string; reasons: string[]; justification: string }): Promise<void>; hasDocument(): Promise<boolean> };
}

/** The extension API of this browser. */
export function extensionApi(): ExtensionApi {
  const g = globalThis as { browser?: ExtensionApi; chrome?: ExtensionApi };
  const api = g.browser ?? g.chrome;
  if (!api) throw new Error('not running as an extension');
  return api;
}
