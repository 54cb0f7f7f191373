#!/usr/bin/env node
// Checks every internal link of the built site: each href/src of each HTML page that is not an
// external URL must name a file inside the site, and a #fragment must name an id (or name) in
// that file. External links (http:, https:, mailto:, …) are counted and skipped: the site must
// build and check offline.
//
//   node scripts/check-links.mjs [dir]     # default: dist; exit code 1 when a link is broken
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function* files(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else yield p;
  }
}

const ATTR = /\s(?:href|src|xlink:href)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const ID = /\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

const decodeEntities = (s) =>
  s.replace(/&(amp|lt|gt|quot|#39|#x27|#(\d+)|#x([0-9a-f]+));/gi, (m, name, dec, hex) =>
    dec ? String.fromCodePoint(Number(dec)) : hex ? String.fromCodePoint(parseInt(hex, 16)) : ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[name.toLowerCase()] ?? m,
  );

/**
 * Checks the links of every `.html` file under `dir`.
 * @param {string} dir
 * @returns {{ pages: number, links: number, external: number, broken: { page: string, link: string, reason: string }[] }}
 */
export function checkLinks(dir) {
  const root = resolve(dir);
  const idCache = new Map();
  const idsOf = (file) => {
    let ids = idCache.get(file);
    if (!ids) {
      ids = new Set();
      for (const m of readFileSync(file, 'utf8').matchAll(ID)) ids.add(decodeEntities(m[1] ?? m[2]));
      idCache.set(file, ids);
    }
    return ids;
  };
  const result = { pages: 0, links: 0, external: 0, broken: [] };
  for (const page of files(root)) {
    if (!page.endsWith('.html')) continue;
    result.pages++;
    const html = readFileSync(page, 'utf8');
    for (const m of html.matchAll(ATTR)) {
      const link = decodeEntities(m[1] ?? m[2]).trim();
      if (link === '') continue;
      if (EXTERNAL.test(link)) {
        result.external++;
        continue;
      }
      result.links++;
      const broken = (reason) => result.broken.push({ page: relative(root, page), link, reason });
      const hash = link.indexOf('#');
      const pathPart = (hash < 0 ? link : link.slice(0, hash)).replace(/\?.*$/, '');
      const fragment = hash < 0 ? '' : link.slice(hash + 1);
      let target;
      try {
        target = pathPart === '' ? page : resolve(dirname(page), decodeURIComponent(pathPart));
      } catch {
        broken('not a valid URL path');
        continue;
      }
      if (target !== root && !target.startsWith(root + sep)) {
        broken('points outside the site');
        continue;
      }
      if (existsSync(target) && statSync(target).isDirectory()) target = join(target, 'index.html');
      if (!existsSync(target)) {
        broken(`no file ${relative(root, target)}`);
        continue;
      }
      if (fragment !== '' && /\.(html|svg)$/.test(target)) {
        let id;
        try {
          id = decodeURIComponent(fragment);
        } catch {
          id = fragment;
        }
        if (!idsOf(target).has(id)) broken(`no id "${id}" in ${relative(root, target)}`);
      }
    }
  }
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = resolve(process.argv[2] ?? join(here, '..', 'dist'));
  const r = checkLinks(dir);
  console.log(`${r.pages} pages, ${r.links} internal links checked, ${r.external} external links skipped, ${r.broken.length} broken`);
  for (const b of r.broken.slice(0, 50)) console.log(`  ${b.page}: ${b.link} (${b.reason})`);
  if (r.broken.length > 50) console.log(`  … and ${r.broken.length - 50} more`);
  if (r.broken.length > 0) process.exitCode = 1;
}
