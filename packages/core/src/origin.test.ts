import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { crossOriginRefusal } from './origin.js';
import { createMemoryStore } from './stores/memory.js';

const config = resolveConfig({
  store: createMemoryStore(),
  secrets: ['s'.repeat(32)],
  publicUrl: 'https://app.example.com',
  origins: ['https://admin.example.com'],
});
const req = (method: string, headers: Record<string, string>) =>
  new Request('https://app.example.com/auth/login', { method, headers });

describe('crossOriginRefusal', () => {
  it('lets safe methods through whatever their origin', () => {
    expect(
      crossOriginRefusal(
        req('GET', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }),
        config,
      ),
    ).toBeNull();
  });

  it.each(['cross-site', 'same-site'])('refuses Sec-Fetch-Site: %s', (site) => {
    expect(crossOriginRefusal(req('POST', { 'sec-fetch-site': site }), config)).toMatch(
      /sec-fetch-site/,
    );
  });

  it('refuses a foreign or null Origin, even with Sec-Fetch-Site: same-origin', () => {
    expect(crossOriginRefusal(req('POST', { origin: 'https://evil.example' }), config)).toBe(
      'origin',
    );
    expect(crossOriginRefusal(req('DELETE', { origin: 'null' }), config)).toBe('origin');
    expect(
      crossOriginRefusal(
        req('POST', { 'sec-fetch-site': 'same-origin', origin: 'http://app.example.com' }),
        config,
      ),
    ).toBe('origin');
  });

  it('accepts same-origin, user-initiated (none), the public origin and configured origins', () => {
    expect(
      crossOriginRefusal(
        req('POST', { 'sec-fetch-site': 'same-origin', origin: 'https://app.example.com' }),
        config,
      ),
    ).toBeNull();
    expect(crossOriginRefusal(req('POST', { 'sec-fetch-site': 'none' }), config)).toBeNull();
    expect(
      crossOriginRefusal(req('PATCH', { origin: 'https://admin.example.com' }), config),
    ).toBeNull();
  });

  it('lets non-browser clients (neither header) through', () => {
    expect(crossOriginRefusal(req('POST', {}), config)).toBeNull();
  });
});
