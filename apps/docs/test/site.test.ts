// Builds the whole site into a temporary folder, as `pnpm docs` does (example pages, then TypeDoc
// with typedoc.json: warnings are errors), and checks it: TypeDoc reported no warning, every
// internal link and #fragment resolves, and the front page, one page per package (with its
// README), each guide and each example's page exist.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLinks } from '../scripts/check-links.mjs';
import { describeExample, exampleFiles, generateExamplePages } from '../scripts/examples.mjs';

const docs = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const config = JSON.parse(readFileSync(join(docs, 'typedoc.json'), 'utf8')) as { entryPoints: string[]; projectDocuments: string[] };
const typedocBin = join(dirname(createRequire(join(docs, 'package.json')).resolve('typedoc/package.json')), 'bin', 'typedoc');

/** Visible text of an HTML page (tags dropped, entities decoded, whitespace collapsed). */
function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

/** The `title:` of a Markdown page's front matter. */
function frontTitle(file: string): string {
  const m = /^---\n[\s\S]*?^title:\s*(.+)$[\s\S]*?^---$/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file} has no title in its front matter`);
  const raw = m[1]!.trim();
  return raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
}

let out = '';
let build: { status: number | null; output: string };
/** Page <title> (without " | Axon") → file, for documents/. */
const documents = new Map<string, string>();

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'axon-docs-site-'));
  generateExamplePages();
  const r = spawnSync(process.execPath, [typedocBin, '--out', out], { cwd: docs, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  // eslint-disable-next-line no-control-regex -- strips ANSI colour codes from TypeDoc's output
  build = { status: r.status, output: `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '') };
  const dir = join(out, 'documents');
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    const t = /<title>([^<]*) \| [^<]*<\/title>/.exec(readFileSync(join(dir, f), 'utf8'))?.[1];
    if (t !== undefined) documents.set(textOf(t).trim(), join(dir, f));
  }
});

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

/** Fails a test that needs the built site, saying why, when TypeDoc wrote none. */
function requireSite(): void {
  if (!existsSync(join(out, 'index.html'))) {
    throw new Error(`TypeDoc wrote no site (exit code ${build.status}; see the first test): ${build.output.split('\n').filter((l) => /^\[(warning|error)\]/.test(l)).slice(-3).join(' / ')}`);
  }
}

describe('the site build', () => {
  it('TypeDoc builds it with no warning and no error (warnings are errors)', () => {
    const problems = build.output.split('\n').filter((l) => /^\[(warning|error)\]/.test(l));
    expect(problems, build.output.slice(-6000)).toEqual([]);
    expect(build.status, build.output.slice(-6000)).toBe(0);
  });

  it('has the front page, with links to every guide and to the examples', () => {
    requireSite();
    const index = join(out, 'index.html');
    expect(existsSync(index)).toBe(true);
    const text = textOf(readFileSync(index, 'utf8'));
    expect(text).toContain('Deep learning for TypeScript');
    for (const doc of config.projectDocuments) expect(text, doc).toContain(frontTitle(join(docs, doc)));
  });

  it('has one page per package, starting with its README', () => {
    requireSite();
    expect(config.entryPoints.length).toBe(9); // 8 packages (onnx included) and the CLI's library export
    for (const entry of config.entryPoints) {
      const dir = resolve(docs, entry);
      const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
      const page = join(out, 'modules', `${name.replace(/[@/]/g, '_')}.html`);
      expect(existsSync(page), `${name}: ${page}`).toBe(true);
      const text = textOf(readFileSync(page, 'utf8'));
      // Every heading of the package's README is on its page.
      const headings = [...readFileSync(join(dir, 'README.md'), 'utf8').matchAll(/^#{1,3} (.+)$/gm)].map((m) => m[1]!.replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').trim());
      expect(headings.length, name).toBeGreaterThan(0);
      for (const h of headings) expect(text, `${name}: README heading "${h}"`).toContain(h);
    }
  });

  it('has the API pages of the central types and functions', () => {
    requireSite();
    for (const page of ['classes/_axon_core.Tensor.html', 'functions/_axon_core.tensor.html', 'functions/_axon_core.tidy.html', 'classes/_axon_layers.Module.html', 'functions/_axon_layers.sequential.html', 'classes/_axon_optimizers.Adam.html', 'classes/_axon_datasets.Dataset.html', 'functions/_axon_onnx.exportOnnx.html', 'functions/_axon_onnx.loadOnnx.html', 'classes/_axon_onnx.OnnxModel.html']) {
      expect(existsSync(join(out, page)), page).toBe(true);
    }
    // An @example without a code fence is rendered as code (TypeDoc's behaviour, kept).
    const tidy = readFileSync(join(out, 'functions/_axon_core.tidy.html'), 'utf8');
    expect(tidy).toMatch(/<pre><code class="[^"]*">[\s\S]*tidy/);
  });

  it('has a page for each guide', () => {
    requireSite();
    const guides = config.projectDocuments.filter((d) => d.startsWith('guides/'));
    expect(guides.length).toBeGreaterThanOrEqual(5);
    for (const g of guides) {
      const title = frontTitle(join(docs, g));
      const file = documents.get(title);
      expect(file, `${g} ("${title}"); pages: ${[...documents.keys()].join(', ')}`).toBeDefined();
      // Each heading of the guide is on its page.
      const text = textOf(readFileSync(file!, 'utf8'));
      for (const m of readFileSync(join(docs, g), 'utf8').matchAll(/^#{1,3} (.+)$/gm)) expect(text, `${g}: ${m[1]}`).toContain(m[1]!.replace(/`/g, ''));
    }
  });

  it('has a page for each program in examples/, with its title, prose and full source', () => {
    requireSite();
    const files = exampleFiles();
    expect(documents.has('Examples')).toBe(true);
    for (const file of files) {
      const ex = describeExample(file);
      const page = documents.get(ex.navTitle);
      expect(page, `${basename(file)} ("${ex.navTitle}")`).toBeDefined();
      const text = textOf(readFileSync(page!, 'utf8'));
      expect(text).toContain(ex.title.replace(/`/g, ''));
      expect(text).toContain(`node examples/run.mjs ${ex.name}`);
      // The whole source is there: every non-empty line, as text.
      for (const line of ex.source.split('\n')) {
        const l = line.trim().replace(/\s+/g, ' ');
        if (l) expect(text, `${basename(file)}: ${l}`).toContain(l);
      }
    }
  });

  it('has no broken internal link or #fragment', () => {
    requireSite();
    const r = checkLinks(out);
    expect(r.pages).toBeGreaterThan(100);
    expect(r.links).toBeGreaterThan(1000);
    expect(r.broken, r.broken.slice(0, 20).map((b) => `${b.page}: ${b.link} (${b.reason})`).join('\n')).toEqual([]);
  });
});

describe('the link checker', () => {
  it('reports a missing file, a missing #fragment and a link out of the site, and skips external URLs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-docs-links-'));
    try {
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'b.html'), '<h2 id="here">b</h2><a href="../index.html#top">up</a>');
      writeFileSync(
        join(dir, 'index.html'),
        '<p id="top"></p><a href="sub/b.html#here">ok</a><a href="sub/b.html#gone">x</a><a href="missing.html">y</a><img src="../outside.png"><a href="https://example.com/">e</a><a href="#top">t</a>',
      );
      const r = checkLinks(dir);
      expect(r.pages).toBe(2);
      expect(r.external).toBe(1);
      expect(r.broken.map((b) => `${b.page} ${b.link}`).sort()).toEqual(['index.html ../outside.png', 'index.html missing.html', 'index.html sub/b.html#gone']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
