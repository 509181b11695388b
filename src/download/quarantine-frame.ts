// The `quarantine` status frame. `quarantine_removed` is an additive field (present only when the
// folder cap removed older entries), so v1 clients that read the four contract keys still work.
import type { LoadPhase } from '../status/events.js';
import type { Quarantined } from '../store/quarantine.js';

export function quarantineFrame(path: string, expected: string, actual: string, moved: Quarantined): LoadPhase {
  return {
    phase: 'quarantine',
    path,
    expected_sha256: expected,
    actual_sha256: actual,
    quarantine_path: moved.path,
    ...(moved.removed.length > 0 ? { quarantine_removed: moved.removed } : {}),
  };
}
