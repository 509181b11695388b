// Loaded into the soak's child daemon with `node --import`: every second it writes the
// process's own RSS, heap (used, committed, external) and event-loop delay p99 to the file named by SOAK_PROBE_FILE, so the
// soak can watch a real daemon process without changing it.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env['SOAK_PROBE_FILE'];
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const timer = setInterval(() => {
    const mem = process.memoryUsage();
    const sample = { at: Date.now(), rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, loopP99Ms: delay.percentile(99) / 1e6, loopMaxMs: delay.max / 1e6 };
    delay.reset();
    writeFileSync(file, JSON.stringify(sample));
  }, 1000);
  timer.unref();
}
