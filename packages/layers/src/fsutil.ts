/**
 * Node file helpers shared by `save`/`loadModel` and checkpoints: durable atomic writes (temp
 * file, fsync, rename, fsync of the folder), reads that refuse anything but a regular file, and
 * content hashes. `node:*` modules are imported lazily (and through variables, so that bundlers
 * do not try to bundle them for browsers): importing this package in a browser is fine as long as
 * these functions are not called there.
 * @internal
 */
import type * as NodeCrypto from 'node:crypto';
import type * as NodeFs from 'node:fs/promises';
import type * as NodePath from 'node:path';
import { AxonError } from '@axon/core';

/** `node:fs/promises`. */
export type Fs = typeof NodeFs;
/** `node:path`. */
export type PathMod = typeof NodePath;

let cached: { fs: Fs; path: PathMod; crypto: typeof NodeCrypto } | null = null;

/** The Node modules, or an AxonError naming `op` outside Node. */
export async function node(op = 'save'): Promise<{ fs: Fs; path: PathMod; crypto: typeof NodeCrypto }> {
  if (cached) return cached;
  try {
    const specs = ['node:fs/promises', 'node:path', 'node:crypto'];
    const [fs, path, crypto] = (await Promise.all(specs.map((s) => import(/* @vite-ignore */ s)))) as [Fs, PathMod, typeof NodeCrypto];
    cached = { fs, path, crypto };
    return cached;
  } catch {
    throw new AxonError(op, 'file helpers need Node.js; in a browser use serializeModel/deserializeModel, encodeWeights/serializeSafetensors and modelToJson');
  }
}

let hook: ((step: string) => void | Promise<void>) | null = null;

/**
 * @internal For tests: `fn` is awaited before every filesystem step of a save or checkpoint (its
 * argument names the step), so a test can stop a save at any point — e.g. with a promise that
 * never settles, which leaves the files exactly as a process killed there would.
 */
export function setIoHookForTests(fn: ((step: string) => void | Promise<void>) | null): void {
  hook = fn;
}

/** Awaits the test hook (if any) before a filesystem step. */
export async function step(name: string): Promise<void> {
  if (hook) await hook(name);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** fsyncs a folder so that renames in it are durable; platforms that refuse (EISDIR, EPERM, …) are ignored. */
export async function syncDir(dir: string): Promise<void> {
  const { fs } = await node();
  await step('syncdir');
  let h: NodeFs.FileHandle | null = null;
  try {
    h = await fs.open(dir, 'r');
    await h.sync();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF' && code !== 'EACCES' && code !== 'ENOTSUP') throw e;
  } finally {
    await h?.close().catch(() => undefined);
  }
}

/** A temporary name beside `file` (removed by the cleanups as `<name>.tmp-…`). */
export function tmpName(file: string): string {
  return `${file}.tmp-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Writes `data` to `file` durably and atomically: a temporary file in the same folder is written,
 * fsynced and closed, then renamed over `file`, and the folder is fsynced. On failure the
 * temporary file is removed and any old `file` is left intact. `op` names the caller in errors.
 */
export async function writeDurable(op: string, file: string, data: Uint8Array | string): Promise<void> {
  const { fs, path } = await node(op);
  const tmp = tmpName(file);
  try {
    await step(`open ${path.basename(tmp)}`);
    const h = await fs.open(tmp, 'w');
    try {
      await step(`write ${path.basename(tmp)}`);
      await h.writeFile(data);
      await step(`sync ${path.basename(tmp)}`);
      await h.sync();
    } finally {
      await step(`close ${path.basename(tmp)}`);
      await h.close();
    }
    await step(`rename ${path.basename(tmp)} -> ${path.basename(file)}`);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new AxonError(op, `cannot write '${file}': ${message(e)}`);
  }
  await syncDir(path.dirname(path.resolve(file)));
}

/** The first 16 hex digits of the SHA-256 of `data`: a content address for file names. */
export async function contentHash(data: Uint8Array): Promise<string> {
  const { crypto } = await node();
  return crypto.createHash('sha256').update(data).digest('hex').slice(0, 16);
}

/**
 * Removes the files of `dir` that `leftover(name)` selects (temporary files and superseded data
 * files of earlier saves), then fsyncs the folder if anything went. A missing folder is fine.
 */
export async function removeLeftoverFiles(dir: string, leftover: (name: string) => boolean): Promise<void> {
  const { fs, path } = await node();
  await step('readdir');
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  let removed = false;
  for (const name of names) {
    if (!leftover(name)) continue;
    await step(`rm ${name}`);
    await fs.rm(path.join(dir, name), { force: true });
    removed = true;
  }
  if (removed) await syncDir(dir);
}

/** Escapes a string for use inside a RegExp. */
/**
 * @internal Creates `dir` and its missing parents one component at a time. Node's
 * `mkdir(…, { recursive: true })` never returns for a path under `/proc` (it loops on ENOENT), so
 * a pseudo-filesystem path given as an output would hang the caller; one level at a time, it
 * fails at once with the system's error.
 */
export async function mkdirs(dir: string): Promise<void> {
  const { fs, path } = await node();
  const target = path.resolve(dir);
  const missing: string[] = [];
  let cur = target;
  for (;;) {
    try {
      const st = await fs.stat(cur);
      if (!st.isDirectory()) throw Object.assign(new Error(`'${cur}' exists and is not a directory`), { code: 'ENOTDIR' });
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
      missing.push(cur);
      const parent = path.dirname(cur);
      if (parent === cur) break;
      cur = parent;
    }
  }
  for (const d of missing.reverse()) {
    try {
      await fs.mkdir(d);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
  }
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
