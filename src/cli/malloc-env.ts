// glibc reads its malloc settings from the environment once, at process start. Reloading a model
// frees llama.cpp's large buffers, and each such free raises glibc's dynamic mmap threshold, so
// the next model's buffers come from the heap and RSS climbs with every reload (soak: +14 % in
// 10 minutes; +0.3 % with the threshold fixed). `inferd serve` therefore fixes the threshold by
// re-executing itself with it set, where Node can replace the process in place.
//
// Kept free of other imports: it runs before the CLI loads anything else.

export const MMAP_THRESHOLD = '131072';

export type MallocPlan =
  | { action: 'keep'; reason: string }
  | { action: 'reexec'; env: NodeJS.ProcessEnv }
  | { action: 'hint'; message: string };

/**
 * What `inferd <args>` should do about the malloc environment. Only `serve` on Linux is
 * concerned; a setting the user made (the variable, or a glibc malloc tunable) is left alone.
 */
export function mallocPlan(args: readonly string[], env: NodeJS.ProcessEnv, platform: NodeJS.Platform, canExecve: boolean): MallocPlan {
  if (args[0] !== 'serve' || args.includes('--help') || args.includes('-h')) return { action: 'keep', reason: 'not serving' };
  if (platform !== 'linux') return { action: 'keep', reason: 'not glibc' };
  if (env.MALLOC_MMAP_THRESHOLD_ !== undefined) return { action: 'keep', reason: 'set by the user' };
  if (env.GLIBC_TUNABLES?.includes('glibc.malloc.')) return { action: 'keep', reason: 'glibc tunables set by the user' };
  if (!canExecve) {
    return {
      action: 'hint',
      message:
        `MALLOC_MMAP_THRESHOLD_ is not set: memory may grow with each model reload. ` +
        `Start inferd with MALLOC_MMAP_THRESHOLD_=${MMAP_THRESHOLD} (Node 22.15+ sets it by itself).`,
    };
  }
  return { action: 'reexec', env: { ...env, MALLOC_MMAP_THRESHOLD_: MMAP_THRESHOLD } };
}

type Execve = (file: string, args: readonly string[], env: NodeJS.ProcessEnv) => never;

/** process.execve exists from Node 22.15 / 23.11; typed here since @types/node 20 lacks it. */
export function execveOf(proc: NodeJS.Process = process): Execve | undefined {
  const candidate = (proc as NodeJS.Process & { execve?: Execve }).execve;
  return typeof candidate === 'function' ? candidate.bind(proc) : undefined;
}

/**
 * Replaces this process (same PID, same arguments) when the plan says so; otherwise returns and
 * the daemon logs the hint once its logger exists.
 */
export function applyMallocPlan(proc: NodeJS.Process = process): void {
  const execve = execveOf(proc);
  const plan = mallocPlan(proc.argv.slice(2), proc.env, proc.platform, execve !== undefined);
  if (plan.action === 'reexec' && execve) execve(proc.execPath, [proc.execPath, ...proc.execArgv, ...proc.argv.slice(1)], plan.env);
}
