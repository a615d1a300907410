// connect-v1 / webrtc-v1 client pieces that need no network: what we
// advertise, and the data-channel wire's bufferedAmount backpressure. The
// wire formats themselves are tested in packages/protocol/test/webrtc-*.
import { describe, expect, it } from 'vitest';
import { waitFor } from '@burrow/testkit';
import { advertiseConnect } from '../src/connection/advertise.js';
import { channelWire, drained } from '../src/connection/webrtc/channel.js';

describe('connect-v1 version extras', () => {
  it('advertises webrtc-v1 only with an RTCPeerConnection, keeps the caller extras, and our side', () => {
    const Fake = function () {
  /* never constructed: only its identity is passed around */
} as unknown as new () => RTCPeerConnection;
    const withRtc = advertiseConnect({}, '0123456789', { RTCPeerConnection: Fake, versionExtras: { abilities: ['x'], other: 1 } });
    expect(withRtc).toEqual({ abilities: ['x', 'webrtc-v1', 'mux-v1', 'files-v1'], other: 1, 'connect-v1': { side: '0123456789' } });
    expect(advertiseConnect({}, 'aa', { RTCPeerConnection: null })['abilities']).toEqual(['mux-v1', 'files-v1']);
  });
});

describe('bufferedAmount backpressure', () => {
  /** A channel that never fires `bufferedamountlow` (like @roamhq/wrtc): only polling can see it drain. */
  const silentChannel = () => {
    const sent: (string | Uint8Array)[] = [];
    let amount = 0;
    /** How often the code under test looked at `bufferedAmount` (each poll looks once). */
    const looks = { count: 0 };
    const ch = {
      label: 'burrow/stream',
      readyState: 'open',
      get bufferedAmount() {
        looks.count++;
        return amount;
      },
      set bufferedAmount(n: number) {
        amount = n;
      },
      bufferedAmountLowThreshold: 0,
      send(data: string | Uint8Array) {
        sent.push(data);
        if (typeof data !== 'string') amount += data.length;
      },
      close() {
        /* the fake peer connection has no state to change */
      },
      addEventListener() {
        /* the fake peer connection has no state to change */
      },
      removeEventListener() {
        /* the fake peer connection has no state to change */
      },
    };
    return { ch, sent, looks };
  };

  /** Resolves once `looks` has grown by `n` (driven by the wire's own polling, not by a clock). */
  const polled = async (looks: { count: number }, n: number) => {
    const target = looks.count + n;
    await waitFor(() => looks.count >= target, { message: `${n} more polls`, intervalMs: 1 });
  };

  it('pauses above the high watermark and resumes by polling when no event fires', async () => {
    const { ch, looks } = silentChannel();
    const wire = channelWire(ch as unknown as RTCDataChannel, { high: 1024 * 1024, low: 256 * 1024, pollMs: 5 }, 262144);
    expect(wire.maxChunk).toBe(64 * 1024);
    expect(ch.bufferedAmountLowThreshold).toBe(256 * 1024);
    for (let i = 0; i < 17; i++) wire.sendData(new Uint8Array(64 * 1024));
    const ready = wire.ready();
    expect(ready).toBeInstanceOf(Promise);
    let resolved = false;
    void ready!.then(() => (resolved = true));
    await polled(looks, 3); // three polls saw a full buffer
    expect(resolved).toBe(false);
    ch.bufferedAmount = 200 * 1024; // drained below the low watermark, silently
    await ready;
    expect(wire.ready()).toBeUndefined();
  });

  it('rejects the wait when the channel closes', async () => {
    const { ch } = silentChannel();
    ch.bufferedAmount = 2 * 1024 * 1024;
    const wait = drained(ch as unknown as RTCDataChannel, { high: 1024 * 1024, low: 256 * 1024, pollMs: 5 });
    ch.readyState = 'closed';
    await expect(wait).rejects.toMatchObject({ code: 'Closed' });
  });
});
