// Public surface of the model store, for the daemon and the CLI.
export { acquireModel, type AcquireOptions, type AcquiredModel } from './acquire.js';
export { ModelStore, type ModelEntry, type ResolvedModel, type NewManifest } from './model-store.js';
export { pullModel, findPinnedModel, type PullOptions, type PullResult, type PullSpec } from './pull.js';
export { createDownloadAgent, readCaFile, assertHttpsUrl, DEFAULT_TIMEOUTS, type HttpTimeouts } from './fetch-http.js';
export { DEFAULT_CADENCE, type ProgressCadence } from './fetch-progress.js';
export { DEFAULT_RETRY, type RetryPolicy } from './fetch-retry.js';
export { fileSink, type FileSink, type SinkFactory } from './fetch-sink.js';
export { ManifestSchema, type Manifest } from './manifest.js';
export { SidecarSchema, type Sidecar } from './sidecar.js';
export type { ReconcileReport } from './reconcile.js';
export type { ImportOptions, ImportResult } from './store-import.js';
export { assertModelName, assertSha256 } from './names.js';
