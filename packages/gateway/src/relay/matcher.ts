/**
 * Token matching, as wormhole_transit_relay's `Transit.connection_got_token`
 * does it: connections wait under their token; a newcomer matches the first
 * waiting one whose side differs (an unsided, old-style handshake matches any
 * side). On a match every other connection waiting under that token is
 * redundant (a spare connection from a side that already got through) and
 * the token is forgotten. Pure: no I/O, no clock.
 */

interface Waiting<C> {
  readonly side: string | null;
  readonly conn: C;
}

export interface Match<C> {
  /** The waiting connection the newcomer is glued to. */
  readonly buddy: C;
  /** Other connections that waited under the token: close them. */
  readonly redundant: readonly C[];
}

export class TokenMatcher<C> {
  readonly #waiting = new Map<string, Waiting<C>[]>();
  #count = 0;

  /** `conn` finished its handshake: match it now, or keep it waiting. */
  offer(token: string, side: string | null, conn: C): Match<C> | undefined {
    const list = this.#waiting.get(token);
    if (list) {
      const i = list.findIndex((w) => w.side === null || side === null || w.side !== side);
      if (i >= 0) {
        const buddy = list[i]!.conn;
        const redundant = list.filter((_, j) => j !== i).map((w) => w.conn);
        this.#waiting.delete(token);
        this.#count -= list.length;
        return { buddy, redundant };
      }
      list.push({ side, conn });
    } else {
      this.#waiting.set(token, [{ side, conn }]);
    }
    this.#count++;
    return undefined;
  }

  /** Stop waiting (the connection closed or timed out). */
  remove(token: string, conn: C): void {
    const list = this.#waiting.get(token);
    if (!list) return;
    const i = list.findIndex((w) => w.conn === conn);
    if (i < 0) return;
    list.splice(i, 1);
    this.#count--;
    if (list.length === 0) this.#waiting.delete(token);
  }

  /** Whether any connection waits under `token`. */
  has(token: string): boolean {
    return this.#waiting.has(token);
  }

  /** Distinct tokens waiting. */
  get tokens(): number {
    return this.#waiting.size;
  }

  /** Connections waiting. */
  get connections(): number {
    return this.#count;
  }
}
