import { describe, expect, it } from 'vitest';
import type { DuplexStream } from '@burrow/client';
import { destinationOf, httpOverStream } from '../src/client/http.js';

/** A fake forwarded stream: returns the request text once it is written, and answers with `response` chunks. */
function scripted(response: string[]): { stream: DuplexStream; request: Promise<string>; closed: Promise<void> } {
  let resolveRequest!: (s: string) => void;
  let resolveClosed!: () => void;
  const request = new Promise<string>((r) => (resolveRequest = r));
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let text = '';
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      text += new TextDecoder().decode(chunk);
      if (text.includes('\r\n\r\n')) resolveRequest(text);
    },
    close: () => resolveClosed(),
  });
  const readable = new ReadableStream<Uint8Array>({
    async start(c) {
      await request;
      for (const part of response) c.enqueue(new TextEncoder().encode(part));
      c.close();
    },
  });
  return { stream: { id: 1, readable, writable }, request, closed };
}

describe('HTTP/1.1 over a forwarded stream', () => {
  it('sends one request with Host and Connection: close, and reads a Content-Length body split anywhere', async () => {
    const { stream, request, closed } = scripted(['HTTP/1.1 200 OK\r\nContent-Ty', 'pe: text/plain\r\nContent-Length: 5\r\n\r\nhe', 'llo']);
    const res = await httpOverStream(stream, new URL('http://127.0.0.1:8080/a?b=1'), { method: 'post', body: 'xyz', headers: { 'X-Test': '1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(await res.text()).toBe('hello');
    const req = await request;
    expect(req.startsWith('POST /a?b=1 HTTP/1.1\r\n')).toBe(true);
    expect(req).toContain('Host: 127.0.0.1:8080\r\n');
    expect(req).toContain('Connection: close\r\n');
    expect(req).toContain('Content-Length: 3\r\n');
    expect(req).toContain('X-Test: 1\r\n');
    expect(req.endsWith('\r\n\r\nxyz')).toBe(true);
    await closed; // the stream is released once the body is read
  });

  it('decodes chunked bodies and bodies that run to the end of the stream', async () => {
    const chunked = scripted(['HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', '4;ext=1\r\ndefg\r\n0\r\n\r\n']);
    const res = await httpOverStream(chunked.stream, new URL('http://localhost/'));
    expect(res.status).toBe(201);
    expect(res.statusText).toBe('Created');
    expect(await res.text()).toBe('abcdefg');
    const eof = scripted(['HTTP/1.0 200 OK\r\n\r\nuntil ', 'the end']);
    expect(await (await httpOverStream(eof.stream, new URL('http://localhost/'))).text()).toBe('until the end');
    const empty = scripted(['HTTP/1.1 204 No Content\r\n\r\n']);
    expect((await httpOverStream(empty.stream, new URL('http://localhost/'))).body).toBeNull();
  });

  it('reports a short body, a non-HTTP answer and header injection', async () => {
    const short = scripted(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc']);
    const res = await httpOverStream(short.stream, new URL('http://localhost/'));
    await expect(res.text()).rejects.toBeDefined();
    await expect(httpOverStream(scripted(['SSH-2.0-OpenSSH\r\n\r\n']).stream, new URL('http://localhost/'))).rejects.toThrow(/did not answer with HTTP/);
    await expect(httpOverStream(scripted([]).stream, new URL('http://localhost/'), { headers: { 'x-a': 'b\r\nEvil: 1' } })).rejects.toThrow(/line breaks/);
  });

  it('names the destination as the allowlist does; http:// only', () => {
    expect(destinationOf(new URL('http://127.0.0.1:8080/x'))).toBe('127.0.0.1:8080');
    expect(destinationOf(new URL('http://localhost/'))).toBe('localhost:80');
    expect(() => destinationOf(new URL('https://localhost/'))).toThrow(/http:\/\/ URLs only/);
  });
});
