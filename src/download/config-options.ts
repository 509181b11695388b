// The download policy of a config, for every caller of pullModel/acquireModel (daemon, CLI).
import type { InferdConfig } from '../config/schema.js';
import type { PullOptions } from './pull.js';

export function downloadPolicy(config: Pick<InferdConfig, 'pull_allow_private' | 'max_model_bytes'>): Pick<PullOptions, 'allowPrivate' | 'maxBytes'> {
  return { allowPrivate: config.pull_allow_private, maxBytes: config.max_model_bytes };
}
