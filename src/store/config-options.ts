// Store options from a config, for every place that opens the store (daemon, CLI).
import type { InferdConfig } from '../config/schema.js';
import type { StoreOptions } from './model-store.js';

export function storeOptions(config: Pick<InferdConfig, 'quarantine_max_files' | 'quarantine_max_bytes'>): StoreOptions {
  return { quarantine: { maxFiles: config.quarantine_max_files, maxBytes: config.quarantine_max_bytes } };
}
