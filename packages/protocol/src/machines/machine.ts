/**
 * A tiny machine toolkit: transitions are data, outputs are pure functions.
 *
 * A machine is a table of `{ from, on, to, do }` rows and a record of named
 * outputs. `step(state, event)` finds the row, runs its outputs in order (each
 * may update the context and return effects) and moves to `to`. Nothing here
 * performs I/O: effects are returned to the caller, which executes them.
 *
 * The same table drives the docs-site state diagrams, so the pictures cannot
 * drift from the code.
 */

export interface Transition<S extends string, E extends string, O extends string> {
  readonly from: S | readonly S[];
  readonly on: E | readonly E[];
  /** The next state; omitted means "stay where you are". */
  readonly to?: S;
  readonly do?: readonly O[];
}

export interface MachineState<S extends string, C> {
  readonly name: S;
  readonly ctx: C;
}

export interface StepResult<S extends string, C, F> {
  readonly state: MachineState<S, C>;
  readonly effects: F[];
  /** False when no row matched: the event was ignored and the state is unchanged. */
  readonly handled: boolean;
}

/** An output: given the context and the event, returns the next context and effects. */
export type Output<C, Ev, F, Env> = (ctx: C, event: Ev, env: Env) => { ctx?: C; effects?: F[] } | void;

export interface MachineDefinition<S extends string, Ev extends { type: string }, O extends string, C, F, Env> {
  readonly name: string;
  readonly initial: S;
  readonly transitions: readonly Transition<S, Ev['type'], O>[];
  readonly outputs: { readonly [K in O]: Output<C, Ev, F, Env> };
  /**
   * Optional: turn a coarse event into a finer one before the table lookup,
   * for inputs whose row depends on data (a message that decrypts or not).
   * Must be pure.
   */
  readonly refine?: (ctx: C, event: Ev, env: Env) => Ev;
}

export interface Machine<S extends string, Ev extends { type: string }, O extends string, C, F, Env>
  extends MachineDefinition<S, Ev, O, C, F, Env> {
  step(state: MachineState<S, C>, event: Ev, env: Env): StepResult<S, C, F>;
  /** Every state name that appears in the table, in first-seen order. */
  readonly states: readonly S[];
}

/** Build a machine from its table; checks the table once for duplicate rows. */
export function defineMachine<S extends string, Ev extends { type: string }, O extends string, C, F, Env>(
  def: MachineDefinition<S, Ev, O, C, F, Env>,
): Machine<S, Ev, O, C, F, Env> {
  const index = new Map<string, Transition<S, Ev['type'], O>>();
  const states: S[] = [def.initial];
  for (const t of def.transitions) {
    for (const from of list(t.from)) {
      for (const on of list(t.on)) {
        const key = `${from}\u0000${on}`;
        if (index.has(key)) throw new Error(`${def.name}: duplicate transition ${from} --${on}-->`);
        index.set(key, t);
      }
      if (!states.includes(from)) states.push(from);
    }
    if (t.to !== undefined && !states.includes(t.to)) states.push(t.to);
  }
  return {
    ...def,
    states,
    step(state, input, env) {
      const event = def.refine ? def.refine(state.ctx, input, env) : input;
      const row = index.get(`${state.name}\u0000${event.type}`);
      if (!row) return { state, effects: [], handled: false };
      let ctx = state.ctx;
      const effects: F[] = [];
      for (const name of row.do ?? []) {
        const out = def.outputs[name](ctx, event, env);
        if (out?.ctx !== undefined) ctx = out.ctx;
        if (out?.effects) effects.push(...out.effects);
      }
      return { state: { name: row.to ?? state.name, ctx }, effects, handled: true };
    },
  };
}

function list<T extends string>(value: T | readonly T[]): readonly T[] {
  return typeof value === 'string' ? [value as T] : (value as readonly T[]);
}
