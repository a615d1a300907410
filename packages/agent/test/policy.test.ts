import { describe, expect, it } from 'vitest';
import { Policy, isRefusal, normalizeOrigin, parseDestination } from '../src/policy.js';

describe('origins', () => {
  it('normalise scheme and host, and reject what is not an origin', () => {
    expect(normalizeOrigin('Chrome-Extension://ABCD/')).toBe('chrome-extension://abcd');
    expect(normalizeOrigin('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    for (const bad of ['', 'null', 'chrome-extension://', 'https://x.example/path', 'x y']) expect(() => normalizeOrigin(bad), bad).toThrow(/not an origin/);
  });

  it('allow only the allowlist; a missing Origin is refused', () => {
    const p = new Policy(['chrome-extension://abcd'], []);
    expect(p.checkOrigin('chrome-extension://abcd')).toBeUndefined();
    expect(p.checkOrigin('CHROME-EXTENSION://ABCD')).toBeUndefined();
    expect(p.checkOrigin('chrome-extension://abce')).toMatchObject({ reason: 'origin' });
    expect(p.checkOrigin('http://127.0.0.1:5173')?.message).toBe("origin 'http://127.0.0.1:5173' is not allowed (start the agent with --allow-origin http://127.0.0.1:5173 to allow it)");
    expect(p.checkOrigin('null')).toMatchObject({ reason: 'origin' });
    expect(p.checkOrigin(undefined)?.message).toContain('no Origin header');
  });
});

describe('Host (DNS rebinding)', () => {
  it('accepts only 127.0.0.1:PORT and localhost:PORT', () => {
    const p = new Policy([], []);
    p.setPort(4100);
    expect(p.checkHost('127.0.0.1:4100')).toBeUndefined();
    expect(p.checkHost('LOCALHOST:4100')).toBeUndefined();
    for (const bad of ['attacker.example:4100', '127.0.0.1', '127.0.0.1:80', 'localhost', '[::1]:4100', '127.0.0.2:4100', 'localhost.:4100', undefined]) {
      expect(p.checkHost(bad), String(bad)).toMatchObject({ reason: 'host' });
    }
    expect(p.checkHost('evil.example:4100')?.message).toContain('DNS-rebinding');
  });
});

describe('destinations', () => {
  it('parse host:port, IPv6 in brackets, lower-case, trailing dot dropped', () => {
    expect(parseDestination('LocalHost.:8080')).toEqual({ host: 'localhost', port: 8080, key: 'localhost:8080' });
    expect(parseDestination('[::1]:443')).toEqual({ host: '::1', port: 443, key: '[::1]:443' });
    for (const bad of ['localhost', ':80', 'a:0', 'a:65536', 'a b:1', 'http://a:1', 'a:1/x', '::1:80']) expect(() => parseDestination(bad), bad).toThrow();
  });

  it('allow only allowlisted destinations, by the name as listed', () => {
    const p = new Policy([], ['127.0.0.1:8080', 'Service.Local:9000']);
    expect(p.destinations).toEqual(['127.0.0.1:8080', 'service.local:9000']);
    expect(p.checkDestination('127.0.0.1:8080')).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(p.checkDestination('SERVICE.local:9000')).toMatchObject({ host: 'service.local' });
    const refused = p.checkDestination('127.0.0.1:22');
    expect(isRefusal(refused) && refused.message).toBe('forwarding to 127.0.0.1:22 is not allowed (allowed: 127.0.0.1:8080, service.local:9000)');
    expect(isRefusal(p.checkDestination('localhost:8080'))).toBe(true);
    expect(isRefusal(p.checkDestination(42))).toBe(true);
  });

  it('reject a bad allowlist entry at start', () => {
    expect(() => new Policy([], ['nope'])).toThrow(expect.objectContaining({ code: 'Usage' }));
    expect(() => new Policy(['*'], [])).toThrow(expect.objectContaining({ code: 'Usage' }));
  });
});
