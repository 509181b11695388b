// The demo model's training text, compiled into the build so that no file lookup happens at
// runtime. The order of TOPICS is part of the model: changing it changes the pinned sha256.
import { ADMIN_STATUS } from './admin-status.js';
import { ADMISSION } from './admission.js';
import { CONFIGURATION } from './configuration.js';
import { DRAIN_RELOAD } from './drain-reload.js';
import { ENGINE } from './engine.js';
import { GETTING_STARTED } from './getting-started.js';
import { MODEL_LOADING } from './model-loading.js';
import { MODEL_STORE } from './model-store.js';
import { OPENAI_API } from './openai-api.js';
import { OVERVIEW } from './overview.js';
import { STREAMING } from './streaming.js';
import { UNIX_SOCKETS } from './unix-sockets.js';

const TOPICS: readonly string[] = [
  OVERVIEW,
  GETTING_STARTED,
  MODEL_LOADING,
  STREAMING,
  ADMIN_STATUS,
  UNIX_SOCKETS,
  OPENAI_API,
  CONFIGURATION,
  DRAIN_RELOAD,
  MODEL_STORE,
  ADMISSION,
  ENGINE,
];

/**
 * The corpus as paragraphs: blank-line separated blocks, whitespace collapsed to single spaces,
 * anything outside printable ASCII dropped (the vocab only has printable ASCII characters).
 */
export function corpusParagraphs(): string[] {
  const out: string[] = [];
  for (const topic of TOPICS) {
    for (const block of topic.split(/\n\s*\n/)) {
      const p = block
        .replace(/[^\x20-\x7e\s]/g, '')
        .replace(/\s+/g, ' ')
        .trim();
      if (p.length > 0) out.push(p);
    }
  }
  return out;
}
