/**
 * Nameplate: claim the nameplate once it is known and we are connected,
 * release it when the first peer message arrives (or on close). Every state
 * exists twice, `.offline` and `.online`, because a claim or release that was
 * in flight when the connection dropped is sent again on reconnect.
 */
import { defineMachine } from './machine.js';
import { io, to, type NameplateEvent, type Routed, type SessionEnv } from './types.js';

export type NameplateStateName =
  | 'idle.offline' | 'idle.online'
  | 'known.offline'
  | 'claiming.offline' | 'claiming.online'
  | 'claimed.offline' | 'claimed.online'
  | 'releasing.offline' | 'releasing.online'
  | 'released.offline' | 'released.online';

export interface NameplateCtx {
  readonly nameplate?: string;
}

type Out = 'record' | 'txClaim' | 'txRelease' | 'gotMailbox' | 'done';

export const nameplateMachine = defineMachine<NameplateStateName, NameplateEvent, Out, NameplateCtx, Routed, SessionEnv>({
  name: 'Nameplate',
  initial: 'idle.offline',
  transitions: [
    { from: 'idle.offline', on: 'set_nameplate', to: 'known.offline', do: ['record'] },
    { from: 'idle.offline', on: 'connected', to: 'idle.online' },
    { from: 'idle.online', on: 'set_nameplate', to: 'claiming.online', do: ['record', 'txClaim'] },
    { from: 'idle.online', on: 'lost', to: 'idle.offline' },
    { from: 'idle.offline', on: 'close', to: 'released.offline', do: ['done'] },
    { from: 'idle.online', on: 'close', to: 'released.online', do: ['done'] },
    { from: 'known.offline', on: 'connected', to: 'claiming.online', do: ['txClaim'] },
    { from: 'known.offline', on: 'close', to: 'released.offline', do: ['done'] },
    { from: 'claiming.offline', on: 'connected', to: 'claiming.online', do: ['txClaim'] },
    { from: 'claiming.offline', on: 'close', to: 'releasing.offline' },
    { from: 'claiming.online', on: 'lost', to: 'claiming.offline' },
    { from: 'claiming.online', on: 'rx_claimed', to: 'claimed.online', do: ['gotMailbox'] },
    { from: 'claiming.online', on: 'close', to: 'releasing.online', do: ['txRelease'] },
    { from: 'claimed.offline', on: 'connected', to: 'claimed.online' },
    { from: 'claimed.offline', on: ['release', 'close'], to: 'releasing.offline' },
    { from: 'claimed.online', on: 'lost', to: 'claimed.offline' },
    { from: 'claimed.online', on: ['release', 'close'], to: 'releasing.online', do: ['txRelease'] },
    { from: 'releasing.offline', on: 'connected', to: 'releasing.online', do: ['txRelease'] },
    { from: 'releasing.offline', on: ['release', 'close'] },
    { from: 'releasing.online', on: 'lost', to: 'releasing.offline' },
    { from: 'releasing.online', on: ['release', 'close', 'rx_claimed'] },
    { from: 'releasing.online', on: 'rx_released', to: 'released.online', do: ['done'] },
    { from: 'released.offline', on: 'connected', to: 'released.online' },
    { from: 'released.online', on: 'lost', to: 'released.offline' },
    { from: ['released.offline', 'released.online'], on: ['release', 'close'] },
  ],
  outputs: {
    record: (_ctx, ev) => (ev.type === 'set_nameplate' ? { ctx: { nameplate: ev.nameplate } } : undefined),
    txClaim: (ctx) => ({ effects: [io({ type: 'transmit', message: { type: 'claim', nameplate: ctx.nameplate ?? '' } })] }),
    txRelease: (ctx) => ({
      effects: [io({ type: 'transmit', message: ctx.nameplate === undefined ? { type: 'release' } : { type: 'release', nameplate: ctx.nameplate } })],
    }),
    gotMailbox: (_ctx, ev) => (ev.type === 'rx_claimed' ? { effects: [to('mailbox', { type: 'got_mailbox', mailbox: ev.mailbox })] } : undefined),
    done: () => ({ effects: [to('terminator', { type: 'nameplate_done' })] }),
  },
});
