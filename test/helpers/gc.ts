// A full garbage collection on demand, without starting node with --expose-gc.
import { setImmediate } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects twice, each after a turn of the loop, so that what the last job dropped is gone. */
export async function collectGarbage(): Promise<void> {
  await setImmediate();
  gc();
  await setImmediate();
  gc();
}

/** What this process still holds after a full collection: the V8 heap and Buffer memory. */
export async function liveBytes(): Promise<number> {
  await collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}
