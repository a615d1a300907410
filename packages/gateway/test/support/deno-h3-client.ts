/**
 * A raw HTTP/3 WebTransport mailbox client run by Deno (Node has no
 * WebTransport): `deno run --unstable-net --allow-net deno-h3-client.ts URL HASH`.
 * Each stdin line (JSON) goes out as one length-prefixed frame; each frame
 * received is printed as one line. Prints `{"type":"closed",…}` when the
 * session ends; closing its stdin closes the session. Test fixture only.
 */
export {};

declare const Deno: { args: string[]; stdin: { readable: ReadableStream<Uint8Array> }; stdout: { writeSync(b: Uint8Array): number } };
declare const WebTransport: new (url: string, init: unknown) => {
  ready: Promise<void>;
  closed: Promise<{ closeCode?: number; reason?: string }>;
  close(): void;
  createBidirectionalStream(): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }>;
};

const [url, hash] = Deno.args as [string, string];
const out = (o: unknown): void => void Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(o) + '\n'));
const wt = new WebTransport(url, { serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(hash.match(/../g)!.map((h) => parseInt(h, 16))) }] });
wt.closed.then((info) => out({ type: 'closed', ...info }), (e: unknown) => out({ type: 'closed', error: String(e) }));
try {
  await wt.ready;
  const stream = await wt.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  void (async () => {
    let pending = '';
    const reader = Deno.stdin.readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      // Our stdin closing is the test closing this client.
      if (done) return wt.close();
      pending += new TextDecoder().decode(value);
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const body = new TextEncoder().encode(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        const frame = new Uint8Array(4 + body.length);
        new DataView(frame.buffer).setUint32(0, body.length);
        frame.set(body, 4);
        await writer.write(frame);
      }
    }
  })();
  let buf = new Uint8Array(0);
  const reader = stream.readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const joined = new Uint8Array(buf.length + value.length);
    joined.set(buf);
    joined.set(value, buf.length);
    buf = joined;
    while (buf.length >= 4) {
      const n = new DataView(buf.buffer, buf.byteOffset).getUint32(0);
      if (buf.length < 4 + n) break;
      out(JSON.parse(new TextDecoder().decode(buf.subarray(4, 4 + n))));
      buf = buf.slice(4 + n);
    }
  }
} catch {
  // The session failed or was closed: `closed` above reports how.
}
