/**
 * The demo's Content-Security-Policy, in one place: the header sent by `vite preview` and
 * `vite` (dev), and the `<meta http-equiv="Content-Security-Policy">` written into the built
 * `index.html` for static hosts that cannot set headers.
 *
 * The site needs no inline script, no `eval` and no inline style: every script is a file of the
 * same origin (the training worker too), every style a stylesheet, the favicon a file. Two
 * exceptions, both for the WASM backend: it compiles its kernels from bytes, which needs
 * `'wasm-unsafe-eval'` (it allows `WebAssembly.compile`/`instantiate` and nothing else;
 * `'unsafe-eval'` stays off), and its thread pool's workers are `blob:` workers that the backend
 * makes from its own code (`worker-src 'self' blob:`; `blob:` is allowed for workers only, not for
 * scripts, styles, images or fetches: a blob: URL can only be made by a script already running in
 * the page, which the rest of the policy restricts to the site's files).
 *
 * Dev server: Vite injects the page's CSS as `<style>` elements from JavaScript (hot reload), so
 * in dev only, `style-src` also allows a nonce, fresh for each page load: Vite's `html.cspNonce`
 * placeholder is replaced in the served HTML by a random value and the header names the same
 * value. The built site (and `vite preview`) has no nonce.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Connect, Plugin } from 'vite';

/** The directives and their sources. `frame-ancestors` only works as a header (a `<meta>` policy ignores it). */
export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  // WebAssembly.compile/instantiate of the WASM backend's kernels; no inline script, no eval
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  // the bundled stylesheets only; no style="" attributes, no <style> elements (dev: plus a nonce)
  'style-src': ["'self'"],
  'img-src': ["'self'"],
  'font-src': ["'self'"],
  // the MNIST files (data/*.gz), fetched by the worker from the same origin
  'connect-src': ["'self'"],
  // the training worker is a file of the same origin; the WASM backend's thread-pool workers
  // (started by the training worker, cross-origin isolated pages only) are blob: workers
  'worker-src': ["'self'", 'blob:'],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/** Directives that a `<meta>` policy may not carry (the browser ignores them there, with a console error). */
const HEADER_ONLY = new Set(['frame-ancestors', 'report-uri', 'sandbox']);

/** What Vite writes as the nonce in dev; replaced by a fresh random value in each served page. */
export const NONCE_PLACEHOLDER = 'axon-demo-csp-nonce';

export interface CspOptions {
  /** For a `<meta http-equiv>` tag: leaves out the header-only directives. */
  readonly meta?: boolean;
  /** Dev server only: also allow `<style nonce="…">` (Vite's injected CSS). */
  readonly styleNonce?: string;
}

/**
 * The policy as one header value, e.g. `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; …`.
 * @example res.setHeader('Content-Security-Policy', contentSecurityPolicy());
 */
export function contentSecurityPolicy(opts: CspOptions = {}): string {
  if (opts.styleNonce !== undefined && !/^[A-Za-z0-9+/_-]+=*$/.test(opts.styleNonce)) {
    throw new Error(`contentSecurityPolicy: the nonce must be base64, got ${JSON.stringify(opts.styleNonce)}`);
  }
  return Object.entries(CSP_DIRECTIVES)
    .filter(([name]) => !(opts.meta && HEADER_ONLY.has(name)))
    .map(([name, sources]) => {
      const all = name === 'style-src' && opts.styleNonce !== undefined ? [...sources, `'nonce-${opts.styleNonce}'`] : sources;
      return `${name} ${all.join(' ')}`;
    })
    .join('; ');
}

/** Sets the header on every response (documents, the worker's script, data): the worker takes its policy from its own response. */
function headerMiddleware(value: () => string): Connect.NextHandleFunction {
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', value());
    next();
  };
}

/**
 * Dev server: a fresh nonce per response, named in the header and written into the HTML in
 * place of {@link NONCE_PLACEHOLDER}. A page's conditional request is made unconditional,
 * since a cached copy would hold an older nonce than the new header.
 */
function devMiddleware(req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void {
  const nonce = randomBytes(18).toString('base64');
  res.setHeader('Content-Security-Policy', contentSecurityPolicy({ styleNonce: nonce }));
  if (req.headers['sec-fetch-dest'] === 'document' || req.headers.accept?.includes('text/html')) delete req.headers['if-none-match'];
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    const [chunk] = args;
    const type = String(res.getHeader('Content-Type') ?? '');
    if (type.startsWith('text/html') && (typeof chunk === 'string' || chunk instanceof Uint8Array)) {
      const html = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (html.includes(NONCE_PLACEHOLDER)) {
        res.setHeader('Cache-Control', 'no-store');
        res.removeHeader('Etag');
        res.removeHeader('Content-Length');
        return end(html.replaceAll(NONCE_PLACEHOLDER, nonce), ...args.slice(1));
      }
    }
    return end(...args);
  }) as typeof res.end;
  next();
}

/**
 * The Vite plugin: the header in dev (with a per-page style nonce) and preview, and the
 * `<meta>` policy at the top of the built `index.html`.
 * @example export default defineConfig({ plugins: [csp()] });
 */
export function csp(): Plugin[] {
  return [
    {
      name: 'axon-demo-csp',
      config(_config, env) {
        // dev only: Vite adds nonce="…" to the tags it writes and to the <style> elements it injects
        if (env.command === 'serve' && env.isPreview !== true) return { html: { cspNonce: NONCE_PLACEHOLDER } };
        return undefined;
      },
      configureServer(server) {
        server.middlewares.use(devMiddleware);
      },
      configurePreviewServer(server) {
        const header = contentSecurityPolicy();
        server.middlewares.use(headerMiddleware(() => header));
      },
    },
    {
      name: 'axon-demo-csp-meta',
      apply: 'build',
      transformIndexHtml: {
        order: 'post',
        handler() {
          return [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy({ meta: true }) }, injectTo: 'head-prepend' }];
        },
      },
    },
  ];
}
