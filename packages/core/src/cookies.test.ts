import { describe, expect, it } from 'vitest';
import { readCookie, serializeCookie } from './cookies.js';

const strict = { path: '/', httpOnly: true, secure: true, sameSite: 'Strict' } as const;

describe('readCookie', () => {
  it('finds a cookie among others and ignores lookalike names', () => {
    expect(readCookie('a=1; __Host-Http-session=abc.def; b=2', '__Host-Http-session')).toBe(
      'abc.def',
    );
    expect(readCookie('x__Host-Http-session=evil', '__Host-Http-session')).toBeNull();
  });

  it('returns the first of duplicated cookies', () => {
    expect(readCookie('s=first; s=second', 's')).toBe('first');
  });

  it('never throws on malformed headers', () => {
    const garbage = [
      ';;;',
      '=',
      's',
      's=%E0%A4%A',
      's="unterminated',
      '\u0000\u0001',
      's=a b',
      's=' + 'x'.repeat(20_000),
    ];
    for (const header of garbage) expect(() => readCookie(header, 's')).not.toThrow();
    expect(readCookie('s=a b', 's')).toBeNull();
    expect(readCookie(null, 's')).toBeNull();
  });

  it('unquotes a quoted value', () => {
    expect(readCookie('s="abc"', 's')).toBe('abc');
  });
});

describe('serializeCookie', () => {
  it('writes every attribute of the session cookie', () => {
    expect(serializeCookie('__Host-Http-session', 'v', { ...strict, maxAge: 43_200 })).toBe(
      '__Host-Http-session=v; Path=/; Max-Age=43200; HttpOnly; Secure; SameSite=Strict',
    );
  });

  it('refuses a __Host- cookie without Secure or with another path', () => {
    expect(() => serializeCookie('__Host-s', 'v', { ...strict, secure: false })).toThrow(/Secure/);
    expect(() => serializeCookie('__Host-s', 'v', { ...strict, path: '/auth' })).toThrow(/Path/);
  });

  it('refuses a __Host-Http- cookie that script could read', () => {
    expect(() => serializeCookie('__Host-Http-s', 'v', { ...strict, httpOnly: false })).toThrow(
      /HttpOnly/,
    );
  });

  it('refuses a __Secure- cookie without Secure', () => {
    expect(() =>
      serializeCookie('__Secure-refresh', 'v', { ...strict, path: '/auth', secure: false }),
    ).toThrow();
  });

  it('refuses header injection through the value', () => {
    for (const value of ['a;b', 'a\r\nSet-Cookie: x=1', 'a,b', 'a b']) {
      expect(() => serializeCookie('s', value, strict)).toThrow(/invalid characters/);
    }
  });
});
