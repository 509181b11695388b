// Disk-side failures of a download. A full disk is terminal for the attempt (retrying cannot
// make room), and the partial is kept: a resume takes its offset from the file's real size and
// re-hashes it, so whatever reached the disk stays consistent with the sidecar.
import { statfs } from 'node:fs/promises';
import { InferdError } from '../errors.js';
import { errnoCode } from '../store/fs-atomic.js';
import { describeError } from './retry.js';

/** Free space kept in reserve beyond the bytes still to download. */
export const FREE_SPACE_MARGIN = 16 * 1024 * 1024;

/** Fails early with `download_failed` (reason ENOSPC) when `dir` cannot hold `needed` more bytes. */
export async function checkFreeSpace(dir: string, needed: number, storeRoot: string): Promise<void> {
  let free: number;
  try {
    const st = await statfs(dir);
    free = Number(st.bavail) * Number(st.bsize);
  } catch {
    return; // statfs unsupported here: the write path still reports ENOSPC clearly.
  }
  if (free < needed + FREE_SPACE_MARGIN) {
    throw new InferdError('download_failed', `not enough disk space under ${storeRoot}: ${needed} more bytes needed, ${free} available`, {
      detail: { reason: 'ENOSPC', needed, available: free },
    });
  }
}

/** ENOSPC, EDQUOT and other write errors as a terminal `download_failed`. */
export function writeFailure(err: unknown, partialPath: string): InferdError {
  if (err instanceof InferdError) return err;
  const code = errnoCode(err);
  const what = code === 'ENOSPC' ? 'disk full' : code === 'EDQUOT' ? 'disk quota exceeded' : 'cannot write';
  return new InferdError(
    'download_failed',
    `${what} while writing ${partialPath} (${describeError(err)}); the partial download is kept and resumes on the next pull once there is room`,
    { cause: err, detail: { reason: code ?? 'write_failed', path: partialPath } },
  );
}
