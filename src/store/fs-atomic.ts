// Durable file operations. `rename` is atomic in the namespace but not durable: without an
// fsync of the file first, power loss can leave a zero-filled file under the new name; without
// an fsync of the directory after, the rename itself can be lost. The order is always
// write → fsync(file) → close → rename → fsync(dir).
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm, stat, lstat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** fsync a directory so renames and creations inside it survive power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, constants.O_RDONLY);
    await fh.sync();
  } catch (err) {
    // Some filesystems refuse fsync on directories (EINVAL/EISDIR/EPERM); the rename is still
    // atomic there, and there is nothing better to do.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close();
  }
}

/** fsync an existing file. */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `path` atomically and durably: a temp file beside it, fsync, rename over
 * the target, fsync of the directory. Readers see the old or the new content, never a mix.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/**
 * Moves a fully written file to its final name: fsync it, rename, fsync the target directory
 * and (when different) the source directory.
 */
export async function promoteFile(src: string, dest: string): Promise<void> {
  await fsyncFile(src);
  await rename(src, dest);
  await fsyncDir(dirname(dest));
  if (dirname(src) !== dirname(dest)) await fsyncDir(dirname(src)).catch(() => undefined);
}

/** mkdir -p, then fsync the parent so a freshly created directory entry is durable. */
export async function ensureDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created !== undefined) await fsyncDir(dirname(dir));
}

/** Size of a regular file, or null when the path is absent or not a regular file. */
export async function regularFileSize(path: string): Promise<number | null> {
  try {
    const st = await lstat(path);
    return st.isFile() ? st.size : null;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
