// Which chat wrapper a model gets. node-llama-cpp's resolveChatWrapper decides by rendering test
// chats through the model's Jinja template and every candidate wrapper, to find a specialised
// wrapper equivalent to the template: ~190 ms of the demo model's start, more with real
// templates. The decision depends only on the model file and on node-llama-cpp, so it is kept
// in a small JSON file per machine and user (config `cache_dir`), and a later start of the same
// file builds that wrapper directly. Only decisions that can be rebuilt exactly are kept: a
// specialised wrapper with its default settings. A Jinja or non-default result is resolved at
// every start, as before.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  chatWrappers,
  getModuleVersion,
  resolveChatWrapper,
  specializedChatWrapperTypeNames,
  type ChatWrapper,
  type LlamaModel,
  type SpecializedChatWrapperTypeName,
} from 'node-llama-cpp';

export const CHAT_WRAPPER_CACHE_FILE = 'chat-wrappers.json';
/** Models remembered; the oldest decisions go first. */
const MAX_ENTRIES = 64;

interface CacheFile {
  version: 1;
  /** Model identity → the specialised wrapper type resolveChatWrapper chose for it. */
  entries: Record<string, string>;
}

export interface ChatWrapperChoice {
  wrapper: ChatWrapper;
  /** `cached`: built from the remembered decision; `resolved`: node-llama-cpp decided now. */
  source: 'cached' | 'resolved';
}

/**
 * The chat wrapper node-llama-cpp resolves for `model`, from the cache in `cacheDir` when this
 * file was resolved before. Without `cacheDir`, or when the cache cannot be read or written, it
 * resolves every time: the cache only ever saves time.
 */
export async function chooseChatWrapper(model: LlamaModel, modelPath: string, cacheDir?: string): Promise<ChatWrapperChoice> {
  if (cacheDir === undefined) return { wrapper: resolveChatWrapper(model), source: 'resolved' };
  const file = join(cacheDir, CHAT_WRAPPER_CACHE_FILE);
  const key = await identityOf(modelPath).catch(() => null);
  const cache = await readCache(file);
  const remembered = key === null ? undefined : cache.entries[key];
  if (remembered !== undefined && isSpecialized(remembered)) {
    return { wrapper: resolveChatWrapper(model, { type: remembered }), source: 'cached' };
  }
  const wrapper = resolveChatWrapper(model);
  const type = rebuildableType(wrapper, model);
  if (key !== null && type !== null) {
    delete cache.entries[key];
    cache.entries[key] = type;
    const keys = Object.keys(cache.entries);
    for (const old of keys.slice(0, Math.max(0, keys.length - MAX_ENTRIES))) delete cache.entries[old];
    await writeCache(cacheDir, file, cache).catch(() => {});
  }
  return { wrapper, source: 'resolved' };
}

/**
 * The file as it is now, plus the resolver's version. Device, inode, size and both times change
 * whenever the file is replaced or written (ctime cannot be set back), and a store blob's path
 * names its sha256.
 */
async function identityOf(modelPath: string): Promise<string> {
  const path = await realpath(modelPath);
  const st = await stat(path, { bigint: true });
  return [`node-llama-cpp@${await getModuleVersion()}`, path, st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join('|');
}

/**
 * The type name that rebuilds `wrapper` exactly, or null. Exactly: the same class, and the same
 * state (settings, options) as that class built with its defaults, which is what the cached
 * path builds. A wrapper resolved with test-derived options differs and is not kept.
 */
export function rebuildableType(wrapper: ChatWrapper, model: LlamaModel): SpecializedChatWrapperTypeName | null {
  const type = specializedChatWrapperTypeNames.find((name) => wrapper.constructor === chatWrappers[name]);
  if (type === undefined) return null;
  try {
    const rebuilt = resolveChatWrapper(model, { type });
    return rebuilt.constructor === wrapper.constructor && JSON.stringify(rebuilt) === JSON.stringify(wrapper) ? type : null;
  } catch {
    return null;
  }
}

function isSpecialized(name: string): name is SpecializedChatWrapperTypeName {
  return (specializedChatWrapperTypeNames as readonly string[]).includes(name);
}

async function readCache(file: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheFile>;
    if (parsed.version === 1 && parsed.entries && typeof parsed.entries === 'object' && !Array.isArray(parsed.entries)) {
      const entries = Object.fromEntries(Object.entries(parsed.entries).filter(([, type]) => typeof type === 'string'));
      return { version: 1, entries };
    }
  } catch {
    // missing or unreadable: start afresh
  }
  return { version: 1, entries: {} };
}

/** Written whole and renamed into place, so a reader never sees half a file. */
async function writeCache(dir: string, file: string, cache: CacheFile): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(cache)}\n`, { mode: 0o600 });
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
