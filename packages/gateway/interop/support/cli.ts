/** The Python `wormhole` CLI pointed at a test gateway, shared by the gateway's abuse and flood suites. */
import { expect } from 'vitest';
import { runWormhole } from '@burrow/testkit';
import type { Gateway } from '../../src/index.js';

/** runWormhole options for `gw`: its mailbox, its TCP transit relay, no stdin. */
export function cliOptions(gw: Gateway): { relayUrl: string; transitHelper: string; stdin: string } {
  return { relayUrl: gw.url, transitHelper: gw.transitHint!, stdin: '' };
}

/** One CLI sends `text` to another through `gw`; asserts it arrived and returns the code used. */
export async function cliText(gw: Gateway, text: string): Promise<string> {
  const sender = runWormhole(['send', '--text', text], cliOptions(gw));
  const code = await sender.code;
  const receiver = runWormhole(['receive', code], cliOptions(gw));
  const [sent, received] = await Promise.all([sender.result, receiver.result]);
  expect(sent.exitCode, sent.stderr).toBe(0);
  expect(received.stdout).toBe(`${text}\n`);
  return code;
}
