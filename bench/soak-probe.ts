// Loaded into the soak's child daemon with `node --import`: every second it writes the
// process's own RSS, heap (used, committed, external, and used right after the last major GC) and
// event-loop delay p99 to the file named by SOAK_PROBE_FILE, so the soak can watch a real daemon
// process without changing it.
import { writeFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const file = process.env['SOAK_PROBE_FILE'];
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // Heap in use just after a major GC is what is alive; heapUsed at a random moment also counts
  // garbage not yet collected, which swings by 10-15 MiB between samples under load.
  let liveHeap: number | null = null;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) liveHeap = process.memoryUsage().heapUsed;
    }
  }).observe({ entryTypes: ['gc'] });
  const timer = setInterval(() => {
    const mem = process.memoryUsage();
    const sample = { at: Date.now(), rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, liveHeap, loopP99Ms: delay.percentile(99) / 1e6, loopMaxMs: delay.max / 1e6 };
    delay.reset();
    writeFileSync(file, JSON.stringify(sample));
  }, 1000);
  timer.unref();
}
