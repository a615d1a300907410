import { describe, expect, it } from 'vitest';
import { JsonError, jsonDepth, parseJson, parseJsonObject } from '../src/json.js';

function reason(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof JsonError) return err.reason;
    throw err;
  }
  throw new Error('did not throw');
}

describe('bounded JSON', () => {
  it('parses objects and ignores brackets inside strings when measuring depth', () => {
    expect(parseJsonObject('{"a":"[[[{{{\\"]]]","b":[1,{"c":2}]}')).toEqual({ a: '[[[{{{"]]]', b: [1, { c: 2 }] });
    expect(jsonDepth('{"a":"[[[[[["}')).toBe(1);
    expect(jsonDepth('[[["\\\\"]]]')).toBe(3);
  });

  it('refuses text over the length bound before parsing', () => {
    expect(reason(() => parseJson('"' + 'x'.repeat(100) + '"', { maxLength: 50 }))).toBe('size');
  });

  it('refuses nesting deeper than the bound, at the first level too deep', () => {
    const deep = '['.repeat(33) + ']'.repeat(33);
    expect(reason(() => parseJson(deep))).toBe('depth');
    expect(parseJson('['.repeat(32) + ']'.repeat(32))).toBeInstanceOf(Array);
    expect(jsonDepth('['.repeat(1000), 5)).toBe(6);
  });

  it('refuses syntax errors, non-strings and non-objects with distinct reasons', () => {
    expect(reason(() => parseJson('{"a":'))).toBe('syntax');
    expect(reason(() => parseJson(42 as unknown as string))).toBe('type');
    expect(reason(() => parseJsonObject('[1]'))).toBe('not-object');
    expect(reason(() => parseJsonObject('null'))).toBe('not-object');
    expect(reason(() => parseJsonObject('"s"'))).toBe('not-object');
  });
});
