/**
 * Code: either the caller sets the whole code, or we ask the server to
 * allocate a nameplate (again after a reconnect, if the answer was lost) and
 * add random words. Either way the code then goes to Nameplate, Key and Boss.
 */
import { defineMachine } from './machine.js';
import { io, to, type CodeEvent, type Routed, type SessionEnv } from './types.js';
import { generateCode, parseCode } from '../codes.js';

export type CodeStateName = 'idle.offline' | 'idle.online' | 'allocating.offline' | 'allocating.online' | 'known';

export interface CodeCtx {
  readonly words?: number;
}

type Out = 'recordWords' | 'txAllocate' | 'generate' | 'announce';

export const codeMachine = defineMachine<CodeStateName, CodeEvent, Out, CodeCtx, Routed, SessionEnv>({
  name: 'Code',
  initial: 'idle.offline',
  transitions: [
    { from: 'idle.offline', on: 'connected', to: 'idle.online' },
    { from: 'idle.online', on: 'lost', to: 'idle.offline' },
    { from: 'idle.offline', on: 'allocate', to: 'allocating.offline', do: ['recordWords'] },
    { from: 'idle.online', on: 'allocate', to: 'allocating.online', do: ['recordWords', 'txAllocate'] },
    { from: 'allocating.offline', on: 'connected', to: 'allocating.online', do: ['txAllocate'] },
    { from: 'allocating.online', on: 'lost', to: 'allocating.offline' },
    { from: 'allocating.online', on: 'rx_allocated', to: 'known', do: ['generate'] },
    { from: ['idle.offline', 'idle.online'], on: 'set_code', to: 'known', do: ['announce'] },
    { from: 'known', on: ['connected', 'lost', 'rx_allocated'] },
  ],
  outputs: {
    recordWords: (_ctx, ev) => (ev.type === 'allocate' ? { ctx: { words: ev.words } } : undefined),
    txAllocate: () => ({ effects: [io({ type: 'transmit', message: { type: 'allocate' } })] }),
    generate: (ctx, ev, env) => (ev.type === 'rx_allocated' ? { effects: announce(generateCode(ev.nameplate, ctx.words ?? 2, env.random)) } : undefined),
    announce: (_ctx, ev) => (ev.type === 'set_code' ? { effects: announce(ev.code) } : undefined),
  },
});

function announce(code: string): Routed[] {
  const { nameplate } = parseCode(code);
  return [
    to('boss', { type: 'got_code', code }),
    to('nameplate', { type: 'set_nameplate', nameplate }),
    to('key', { type: 'got_code', code }),
  ];
}
