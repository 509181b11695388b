// Public surface of the model downloader: HTTPS with retry and resume, progress events, and the
// pull that brings a pinned model into the store. `pullModel(store, spec, { onEvent })` is the
// programmatic entry (CLI `inferd pull`, the daemon's acquireModel, an HTTP pull route).
export { acquireModel, type AcquireOptions, type AcquiredModel } from './acquire.js';
export { pullModel, pullUrl, findPinnedModel, type PullOptions, type PullResult, type PullSpec, type UrlPullOptions, type UrlPullSpec } from './pull.js';
export { createDownloadAgent, readCaFile, assertHttpsUrl, redact, DEFAULT_TIMEOUTS, type HttpTimeouts } from './http.js';
export { downloadPolicy } from './config-options.js';
export { HostGuard, type HostGuardOptions, type ResolveHost } from './host-guard.js';
export { classifyAddress, isMetadataHost } from './address-policy.js';
export { DEFAULT_CADENCE, type ProgressCadence } from './progress.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { fileSink, type FileSink, type SinkFactory } from './sink.js';
