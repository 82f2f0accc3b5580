import { describe, expect, it } from 'vitest';
import { pathnameOf } from './path.js';

const viaUrl = (url: string) => new URL(url, 'http://localhost').pathname;

describe('pathnameOf', () => {
  it.each([
    '/auth/session',
    '/auth/session?x=1',
    '/auth/session#frag',
    'http://127.0.0.1:3000/auth/session',
    'https://app.example/auth/login?next=/x',
    'http://app.example?q=/auth/session',
    'http://app.example#/auth/session',
    'http://user@app.example/auth/me',
    '//evil.example/auth/session',
    '//auth/session',
    '/auth/../auth/session',
    '/auth/./session',
    '/auth/%73ession',
    '/auth\\session',
    'http://app.example\\auth/session',
    '/',
    '/auth',
    '/auth//session',
    'http://app.example//auth/session',
    '/AUTH/Session',
    '/auth/session/',
    '/\t/evil.example',
  ])('agrees with the URL parser for %j', (url) => {
    expect(pathnameOf(url)).toBe(viaUrl(url));
  });

  it('agrees with the URL parser on random targets made of the characters that matter', () => {
    const alphabet = ['/', '.', '%', '2', 'e', '?', '#', '\\', 'a', '-', '_', ':', '@', ' ', '\t'];
    const prefixes = ['', 'http://h', 'https://h:1', 'http:', 'HTTP://h', 'ftp://h'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 20_000; i++) {
      let path = '';
      const length = next() % 12;
      for (let j = 0; j < length; j++) path += alphabet[next() % alphabet.length] as string;
      const url = `${prefixes[next() % prefixes.length]}${path}`;
      let expected: string;
      try {
        expected = viaUrl(url);
      } catch {
        continue;
      }
      expect(pathnameOf(url), url).toBe(expected);
    }
  });
});
