// `burrow serve --trust-proxy`: addresses and networks pass, anything else is a usage error naming it.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/args.js';
import { trustProxy } from '../src/serve.js';

describe('--trust-proxy', () => {
  it('takes addresses and ADDR/PREFIX, IPv4 and IPv6', () => {
    expect(trustProxy(['10.0.0.11', '10.0.0.0/24', '2001:db8::/48'])).toEqual(['10.0.0.11', '10.0.0.0/24', '2001:db8::/48']);
  });
  it('refuses a host name or a bad prefix as a usage error', () => {
    expect(() => trustProxy(['lb.example.org'])).toThrow(UsageError);
    expect(() => trustProxy(['10.0.0.0/40'])).toThrow('--trust-proxy takes ADDR or ADDR/PREFIX: "10.0.0.0/40" is not an IP address or ADDR/PREFIX');
  });
});
