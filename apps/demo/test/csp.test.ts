import { describe, expect, it } from 'vitest';
import { CSP_DIRECTIVES, NONCE_PLACEHOLDER, contentSecurityPolicy } from '../csp.js';

describe('contentSecurityPolicy', () => {
  it('allows same-origin files, WebAssembly compilation and blob: workers (the WASM thread pool), nothing inline, no eval', () => {
    expect(contentSecurityPolicy()).toBe(
      "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'",
    );
    for (const [name, sources] of Object.entries(CSP_DIRECTIVES)) for (const s of sources) expect(["'self'", "'none'", "'wasm-unsafe-eval'", ...(name === 'worker-src' ? ['blob:'] : [])]).toContain(s);
  });

  it('leaves frame-ancestors out of the <meta> form (browsers ignore it there)', () => {
    const meta = contentSecurityPolicy({ meta: true });
    expect(meta).not.toContain('frame-ancestors');
    expect(contentSecurityPolicy()).toBe(`${meta}; frame-ancestors 'none'`);
  });

  it('adds a style nonce for the dev server only when given, and refuses one that is not base64', () => {
    expect(contentSecurityPolicy({ styleNonce: 'abc+/12=' })).toContain("style-src 'self' 'nonce-abc+/12='; img-src");
    expect(contentSecurityPolicy({ styleNonce: 'abc' })).not.toContain("script-src 'self' 'wasm-unsafe-eval' 'nonce");
    expect(() => contentSecurityPolicy({ styleNonce: "x'; script-src *" })).toThrow(/the nonce must be base64/);
    expect(NONCE_PLACEHOLDER).toMatch(/^[A-Za-z0-9-]+$/);
  });
});
