/**
 * A test page for connect(): loads only the IIFE bundle and exposes a few
 * functions the tests drive with page.evaluate. Data is random (a random
 * pool per stream, each 64 KiB chunk stamped with its sequence number) and
 * both ends compute an order-dependent checksum over every byte.
 */
export const WEBRTC_PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Burrow connect()</title>
<script src="/burrow.iife.js"></script>
<script>
  let w, conn;
  const CHUNK = 65536;
  function hasher() {
    let h1 = 0x811c9dc5 | 0, h2 = 0, n = 0, carry = new Uint8Array(0);
    return {
      update(chunk) {
        n += chunk.length;
        let data = chunk;
        if (carry.length) { data = new Uint8Array(carry.length + chunk.length); data.set(carry); data.set(chunk, carry.length); }
        const whole = data.length & ~3;
        const words = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, whole / 4) : new Uint32Array(data.slice(0, whole).buffer);
        for (let i = 0; i < words.length; i++) { const x = words[i]; h1 = Math.imul(h1 ^ x, 0x01000193); h2 = (h2 + (x ^ (i & 0xff))) | 0; }
        carry = data.slice(whole);
      },
      digest() {
        for (const b of carry) h1 = Math.imul(h1 ^ b, 0x01000193);
        return n + ':' + (h1 >>> 0).toString(16) + (h2 >>> 0).toString(16);
      },
    };
  }
  function pool(bytes) {
    const p = new Uint8Array(bytes);
    for (let o = 0; o < bytes; o += CHUNK) crypto.getRandomValues(p.subarray(o, Math.min(bytes, o + CHUNK)));
    return p;
  }
  async function sendOne(bytes) {
    const s = await conn.openStream();
    s.readable.cancel().catch(() => {});
    const writer = s.writable.getWriter();
    const h = hasher();
    const src = pool(1 << 20);
    for (let sent = 0, seq = 0; sent < bytes; sent += CHUNK, seq++) {
      const off = (seq * CHUNK) % src.length;
      const chunk = src.slice(off, off + Math.min(CHUNK, bytes - sent));
      if (chunk.length >= 4) new DataView(chunk.buffer).setUint32(0, seq);
      h.update(chunk);
      await writer.write(chunk);
    }
    await writer.close();
    return h.digest();
  }
  async function readOne(stream) {
    stream.writable.close().catch(() => {});
    const h = hasher();
    const reader = stream.readable.getReader();
    for (;;) { const { value, done } = await reader.read(); if (done) break; h.update(value); }
    return h.digest();
  }
  window.setup = async (mailbox, code) => {
    w = await Burrow.createWormhole({ mailbox });
    if (code) { w.setCode(code); return code; }
    return await w.allocateCode();
  };
  window.connect = async (opts) => {
    const t0 = performance.now();
    try {
      conn = await w.connect(opts);
    } catch (e) {
      return { error: { code: e.code, message: e.message, blame: e.blame } };
    }
    return { kind: conn.kind, ms: performance.now() - t0 };
  };
  // Open n streams sending bytesEach, and read the n streams the peer opens; checksums of both.
  window.exchange = async (n, bytesEach) => {
    const t0 = performance.now();
    const it = conn.incoming[Symbol.asyncIterator]();
    const receiving = (async () => {
      const reads = [];
      for (let i = 0; i < n; i++) { const r = await it.next(); if (r.done) throw new Error('incoming ended'); reads.push(readOne(r.value)); }
      return Promise.all(reads);
    })();
    const [sent, got] = await Promise.all([Promise.all(Array.from({ length: n }, () => sendOne(bytesEach))), receiving]);
    const ms = performance.now() - t0;
    return { sent, got, ms, stats: await conn.getStats() };
  };
  window.stats = () => conn.getStats();
  window.closeAll = async () => { await conn?.close(); await w?.close().catch(() => {}); };
  window.waitClosed = async () => { try { await conn.closed; return 'clean'; } catch (e) { return e.code; } };
</script>`;

export interface PageConnectResult {
  kind?: string;
  ms?: number;
  error?: { code: string; message: string; blame: string };
}

export interface ExchangeResult {
  sent: string[];
  got: string[];
  ms: number;
  stats: { kind: string; path: string; localCandidateType?: string; remoteCandidateType?: string; bytesSent: number; bytesReceived: number; rttMs?: number };
}
