/**
 * Terminator: closing means releasing the nameplate and closing the mailbox
 * (each may already be done), and only then dropping the server connection.
 * State names list what is still outstanding.
 */
import { defineMachine } from './machine.js';
import { io, to, type Routed, type SessionEnv, type TerminatorEvent } from './types.js';

export type TerminatorStateName =
  | 'open:nameplate+mailbox' | 'open:nameplate' | 'open:mailbox' | 'open:nothing'
  | 'closing:nameplate+mailbox' | 'closing:nameplate' | 'closing:mailbox'
  | 'stopping' | 'stopped';

type Out = 'closeNameplate' | 'closeMailbox' | 'stopConnection' | 'closed';

export const terminatorMachine = defineMachine<TerminatorStateName, TerminatorEvent, Out, Record<string, never>, Routed, SessionEnv>({
  name: 'Terminator',
  initial: 'open:nameplate+mailbox',
  transitions: [
    { from: 'open:nameplate+mailbox', on: 'mailbox_done', to: 'open:nameplate' },
    { from: 'open:nameplate+mailbox', on: 'nameplate_done', to: 'open:mailbox' },
    { from: 'open:nameplate+mailbox', on: 'close', to: 'closing:nameplate+mailbox', do: ['closeNameplate', 'closeMailbox'] },
    { from: 'open:nameplate', on: 'nameplate_done', to: 'open:nothing' },
    { from: 'open:nameplate', on: 'close', to: 'closing:nameplate', do: ['closeNameplate'] },
    { from: 'open:mailbox', on: 'mailbox_done', to: 'open:nothing' },
    { from: 'open:mailbox', on: 'close', to: 'closing:mailbox', do: ['closeMailbox'] },
    { from: 'open:nothing', on: 'close', to: 'stopping', do: ['stopConnection'] },
    { from: 'closing:nameplate+mailbox', on: 'mailbox_done', to: 'closing:nameplate' },
    { from: 'closing:nameplate+mailbox', on: 'nameplate_done', to: 'closing:mailbox' },
    { from: 'closing:nameplate', on: 'nameplate_done', to: 'stopping', do: ['stopConnection'] },
    { from: 'closing:mailbox', on: 'mailbox_done', to: 'stopping', do: ['stopConnection'] },
    { from: 'stopping', on: 'stopped', to: 'stopped', do: ['closed'] },
  ],
  outputs: {
    closeNameplate: () => ({ effects: [to('nameplate', { type: 'close' })] }),
    closeMailbox: (_ctx, ev) => (ev.type === 'close' ? { effects: [to('mailbox', { type: 'close', mood: ev.mood })] } : undefined),
    stopConnection: () => ({ effects: [to('rendezvous', { type: 'stop' })] }),
    closed: () => ({ effects: [to('boss', { type: 'closed' })] }),
  },
});
