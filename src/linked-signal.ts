// A signal that aborts when any of its sources does, and can be cut loose from them.
// AbortSignal.any() is not usable with a long-lived source: each signal it makes is recorded in
// every source's set of dependants, and on Node 20 that record is never dropped while the source
// lives (nodejs/node#55351; an observed one still stays on Node 24, #64476). Each request's
// signal combined with the daemon-wide cancel signal left one WeakRef per request behind in a
// soak. Here the link is undone explicitly when the request ends.

export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Removes the listeners from the sources. Idempotent; call it when the request ends. */
  unlink(): void;
}

export function linkSignals(sources: ReadonlyArray<AbortSignal | undefined>): LinkedSignal {
  const controller = new AbortController();
  const links: Array<[AbortSignal, () => void]> = [];
  const unlink = (): void => {
    for (const [source, onAbort] of links.splice(0)) source.removeEventListener('abort', onAbort);
  };
  for (const source of sources) {
    if (source === undefined) continue;
    if (source.aborted) {
      unlink();
      controller.abort(source.reason);
      break;
    }
    const onAbort = (): void => {
      unlink();
      controller.abort(source.reason);
    };
    source.addEventListener('abort', onAbort, { once: true });
    links.push([source, onAbort]);
  }
  return { signal: controller.signal, unlink };
}
