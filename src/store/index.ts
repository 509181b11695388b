// Public surface of the model store: layout, manifests, locks, import, reconcile, quarantine.
// Nothing here imports from src/download/ (the downloader builds on the store, not the reverse).
export { ModelStore, type ModelEntry, type ResolvedModel, type NewManifest, type StoreOptions } from './model-store.js';
export { DEFAULT_QUARANTINE_CAPS, type QuarantineCaps, type Quarantined } from './quarantine.js';
export { importFile, type ImportOptions, type ImportResult } from './store-import.js';
export { reconcileStore, type ReconcileReport } from './reconcile.js';
export { ManifestSchema, type Manifest } from './manifest.js';
export { SidecarSchema, type Sidecar } from './sidecar.js';
export { assertModelName, assertSha256 } from './names.js';
export { storeOptions } from './config-options.js';
export { sha256File } from './hash.js';
export { acquireLock, tryAcquireLock, readLockInfo, type HeldLock, type LockInfo, type LockOptions } from './lock.js';
