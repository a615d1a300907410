/**
 * What every connection carries: bind waits for the welcome. Only a welcome
 * that mentions `permission-required` loads the permission flow (gate.ts,
 * and the solver behind it) — a feature most servers never use costs the
 * initial bundle nothing but this file.
 */
import { PERMISSION_WELCOME_KEY, WormholeError } from '@burrow/protocol';
import type { GateHooks, GateOptions, PermissionGate } from './gate.js';

export class WelcomeGate {
  #state: 'welcome' | 'loading' | 'open' | 'done' = 'welcome';
  #held: (string | Uint8Array)[] = [];
  #full: PermissionGate | undefined;

  constructor(
    readonly hooks: GateHooks,
    readonly options: GateOptions,
  ) {}

  /** One frame from the server. */
  frame(data: string | Uint8Array): void {
    if (this.#full) return this.#full.frame(data);
    switch (this.#state) {
      case 'open':
        return this.hooks.deliver(data);
      case 'loading':
        return void this.#held.push(data);
      case 'done':
        return;
      case 'welcome':
        if (typeof data !== 'string' || !data.includes(`"${PERMISSION_WELCOME_KEY}"`)) {
          this.#state = 'open';
          this.hooks.ready();
          return this.hooks.deliver(data);
        }
        this.#state = 'loading';
        this.#held.push(data);
        import('./gate.js').then(
          ({ PermissionGate }) => {
            if (this.#state !== 'loading') return;
            this.#full = new PermissionGate(this.hooks, this.options);
            for (const held of this.#held.splice(0)) this.#full.frame(held);
          },
          (err: unknown) => {
            if (this.#state !== 'loading') return;
            this.#state = 'done';
            this.hooks.fail(new WormholeError('Welcome', 'could not load the permission flow this server asks for', { cause: err }));
          },
        );
    }
  }

  /** The connection ended. */
  close(): void {
    this.#state = 'done';
    this.#full?.close();
  }
}
