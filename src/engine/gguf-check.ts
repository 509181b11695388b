// A JS-side GGUF sanity check that runs before llama.cpp sees a file. A malformed GGUF can abort
// the whole process from C++ (SIGABRT) and crafted ones have caused memory bugs in loaders, so
// we read the header, the metadata and the tensor table through a file handle (never the
// weights; models can be many GB) and refuse anything inconsistent with `model_invalid`.
import { open, type FileHandle } from 'node:fs/promises';
import { Type, type Static } from 'typebox';
import { InferdError } from '../errors.js';

export const GgufSummarySchema = Type.Object({
  version: Type.Integer({ minimum: 2, maximum: 3 }),
  architecture: Type.String(),
  name: Type.Optional(Type.String()),
  tensorCount: Type.Integer({ minimum: 0 }),
  parameterCount: Type.Integer({ minimum: 0, description: 'Elements in all tensors: the model size Ollama reports as parameter_size' }),
  kvCount: Type.Integer({ minimum: 0 }),
  contextLength: Type.Integer({ minimum: 1 }),
  embeddingLength: Type.Integer({ minimum: 1 }),
  blockCount: Type.Integer({ minimum: 1 }),
  fileType: Type.Optional(Type.Integer({ minimum: 0, description: 'general.file_type (llama_ftype)' })),
  hasChatTemplate: Type.Boolean(),
  maxTokenBytes: Type.Integer({ minimum: 0, description: 'Longest token text in the vocabulary, in UTF-8 bytes' }),
  sizeBytes: Type.Integer({ minimum: 0 }),
  dataOffset: Type.Integer({ minimum: 0, description: 'File offset where tensor data starts' }),
});
export type GgufSummary = Static<typeof GgufSummarySchema>;

// Bounds far above any real model, far below what would make us allocate or loop absurdly.
const MAX_TENSORS = 1 << 20;
const MAX_KVS = 1 << 16;
const MAX_KEY_BYTES = 1 << 16;
const MAX_STRING_BYTES = 1 << 24;
const MAX_ARRAY_ITEMS = 1 << 26;
const MAX_TENSOR_NAME_BYTES = 63; // GGML_MAX_NAME 64, including the NUL
const INT64_MAX = (1n << 63n) - 1n;

/**
 * ggml tensor types: [name, elements per block, bytes per block], from type_traits in ggml.c and
 * the block structs in ggml-common.h of the llama.cpp that node-llama-cpp 3.21.1 bundles.
 */
const GGML_TYPES: ReadonlyMap<number, readonly [string, number, number]> = new Map([
  [0, ['f32', 1, 4]], [1, ['f16', 1, 2]], [2, ['q4_0', 32, 18]], [3, ['q4_1', 32, 20]],
  [6, ['q5_0', 32, 22]], [7, ['q5_1', 32, 24]], [8, ['q8_0', 32, 34]], [9, ['q8_1', 32, 36]],
  [10, ['q2_K', 256, 84]], [11, ['q3_K', 256, 110]], [12, ['q4_K', 256, 144]], [13, ['q5_K', 256, 176]],
  [14, ['q6_K', 256, 210]], [15, ['q8_K', 256, 292]], [16, ['iq2_xxs', 256, 66]], [17, ['iq2_xs', 256, 74]],
  [18, ['iq3_xxs', 256, 98]], [19, ['iq1_s', 256, 50]], [20, ['iq4_nl', 32, 18]], [21, ['iq3_s', 256, 110]],
  [22, ['iq2_s', 256, 82]], [23, ['iq4_xs', 256, 136]], [24, ['i8', 1, 1]], [25, ['i16', 1, 2]],
  [26, ['i32', 1, 4]], [27, ['i64', 1, 8]], [28, ['f64', 1, 8]], [29, ['iq1_m', 256, 56]],
  [30, ['bf16', 1, 2]], [34, ['tq1_0', 256, 54]], [35, ['tq2_0', 256, 66]], [39, ['mxfp4', 32, 17]],
  [40, ['nvfp4', 64, 36]], [41, ['q1_0', 128, 18]], [42, ['q2_0', 64, 18]],
]);
/** Numbers ggml once used and has since removed; llama.cpp refuses them in GGUF files. */
const REMOVED_GGML_TYPES: ReadonlySet<number> = new Set([4, 5, 31, 32, 33, 36, 37, 38]);

/** GGUF metadata value types. */
const V = {
  U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10, I64: 11, F64: 12,
} as const;
const FIXED_SIZE: readonly (number | undefined)[] = [1, 1, 2, 2, 4, 4, 4, 1, undefined, undefined, 8, 8, 8];
const INTEGER_TYPES: ReadonlySet<number> = new Set([V.U8, V.I8, V.U16, V.I16, V.U32, V.I32, V.U64, V.I64]);

/**
 * Architectures without attention heads or feed-forward layers: llama.cpp's recurrent models,
 * which store 0 there (or leave the keys out). Every other architecture needs both, positive:
 * a missing or zero value makes llama.cpp abort on a tensor shape assertion (notes §3).
 */
const NO_ATTENTION_ARCHS: ReadonlySet<string> = new Set(['mamba', 'mamba2', 'rwkv6', 'rwkv6qwen2', 'rwkv7', 'arwkv7']);

type Value =
  | { kind: 'string'; value: string }
  | { kind: 'array'; itemType: number; length: number; ints?: bigint[]; longestString?: number }
  | { kind: 'scalar'; type: number; value: bigint | number };

/** Sequential reader over a file handle with a growable window; every read is bounds-checked. */
class Cursor {
  pos = 0;
  private buf = Buffer.alloc(1 << 18);
  private start = 0;
  private len = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly bad: (problem: string) => InferdError,
  ) {}

  private inWindow(n: number): boolean {
    return this.pos >= this.start && this.pos + n <= this.start + this.len;
  }

  private async ensure(n: number, what: string): Promise<void> {
    if (this.pos + n > this.size) {
      throw this.bad(`the file ends at byte ${this.size} while reading ${what} (needs ${n} bytes at offset ${this.pos}); it is probably truncated`);
    }
    if (this.inWindow(n)) return;
    if (n > this.buf.length) this.buf = Buffer.alloc(Math.max(n, this.buf.length * 2));
    const want = Math.min(this.buf.length, this.size - this.pos);
    const { bytesRead } = await this.fh.read(this.buf, 0, want, this.pos);
    this.start = this.pos;
    this.len = bytesRead;
    if (bytesRead < n) throw this.bad(`short read at offset ${this.pos} while reading ${what}`);
  }

  private at(): number {
    return this.pos - this.start;
  }

  async bytes(n: number, what: string): Promise<Buffer> {
    await this.ensure(n, what);
    const b = this.buf.subarray(this.at(), this.at() + n);
    this.pos += n;
    return b;
  }
  async u32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readUInt32LE(0);
  }
  async u64(what: string): Promise<bigint> {
    return (await this.bytes(8, what)).readBigUInt64LE(0);
  }
  skip(n: bigint, what: string): void {
    if (BigInt(this.pos) + n > BigInt(this.size)) {
      throw this.bad(`${what} runs past the end of the file (${n} bytes at offset ${this.pos}, file size ${this.size})`);
    }
    this.pos += Number(n);
  }
  /** A length-prefixed UTF-8 string. */
  async string(what: string, max: number): Promise<string> {
    const len = await this.u64(`the length of ${what}`);
    if (len > BigInt(max)) throw this.bad(`${what} claims a length of ${len} bytes (limit ${max})`);
    if (BigInt(this.pos) + len > BigInt(this.size)) {
      throw this.bad(`${what} (${len} bytes at offset ${this.pos}) runs past the end of the file (size ${this.size})`);
    }
    return (await this.bytes(Number(len), what)).toString('utf8');
  }
  /** Skips `count` strings; a synchronous loop over the window, since vocabularies hold ~10^5 of them. */
  /** Skips `count` strings; returns the longest one's length in bytes. */
  async skipStrings(count: number, max: number, what: string): Promise<number> {
    let longest = 0;
    for (let i = 0; i < count; i++) {
      if (!this.inWindow(8)) await this.ensure(8, `the length of item ${i} of ${what}`);
      const at = this.at();
      const lo = this.buf.readUInt32LE(at);
      const hi = this.buf.readUInt32LE(at + 4);
      if (hi !== 0 || lo > max) throw this.bad(`item ${i} of ${what} claims a length of ${BigInt(hi) * 2n ** 32n + BigInt(lo)} bytes (limit ${max})`);
      if (this.pos + 8 + lo > this.size) {
        throw this.bad(`item ${i} of ${what} (${lo} bytes at offset ${this.pos + 8}) runs past the end of the file (size ${this.size})`);
      }
      this.pos += 8 + lo;
      if (lo > longest) longest = lo;
    }
    return longest;
  }
  async scalar(type: number, what: string): Promise<bigint | number> {
    const size = FIXED_SIZE[type] as number;
    const b = await this.bytes(size, what);
    switch (type) {
      case V.U8: case V.BOOL: return b.readUInt8(0);
      case V.I8: return b.readInt8(0);
      case V.U16: return b.readUInt16LE(0);
      case V.I16: return b.readInt16LE(0);
      case V.U32: return b.readUInt32LE(0);
      case V.I32: return b.readInt32LE(0);
      case V.F32: return b.readFloatLE(0);
      case V.U64: return b.readBigUInt64LE(0);
      case V.I64: return b.readBigInt64LE(0);
      default: return b.readDoubleLE(0);
    }
  }
}

/**
 * Validates the GGUF file at `path` without loading it and summarises it. Throws
 * InferdError('model_invalid') naming the file and the problem ('model_missing' if it does not exist).
 */
export async function checkGgufFile(path: string): Promise<GgufSummary> {
  const bad = (problem: string): InferdError =>
    new InferdError('model_invalid', `model file ${path} is not a valid GGUF model: ${problem}`, { detail: { path } });
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const st = await fh.stat();
    if (!st.isFile()) throw bad('it is not a regular file');
    return await parse(new Cursor(fh, st.size, bad), bad);
  } catch (err) {
    if (err instanceof InferdError) throw err;
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'model_missing' : 'model_invalid';
    const reason = err instanceof Error ? err.message : String(err);
    throw new InferdError(code, `cannot read model file ${path}: ${reason}`, { cause: err, detail: { path } });
  } finally {
    await fh?.close();
  }
}

async function parse(c: Cursor, bad: (problem: string) => InferdError): Promise<GgufSummary> {
  const magic = await c.bytes(4, 'the magic bytes');
  if (magic.toString('latin1') !== 'GGUF') {
    // The bytes found are not echoed: the error can reach HTTP clients (a reload path).
    throw bad(`it does not start with the GGUF magic bytes`);
  }
  const version = await c.u32('the version');
  if (version !== 2 && version !== 3) {
    const hint = (version & 0xffff) === 0 ? ' (a big-endian file?)' : version === 1 ? ' (GGUF v1 is no longer supported)' : '';
    throw bad(`unsupported GGUF version ${version}${hint}; versions 2 and 3 are supported`);
  }
  const tensorCount = await c.u64('the tensor count');
  const kvCount = await c.u64('the metadata count');
  if (tensorCount > BigInt(MAX_TENSORS)) throw bad(`implausible tensor count ${tensorCount} (limit ${MAX_TENSORS})`);
  if (kvCount > BigInt(MAX_KVS)) throw bad(`implausible metadata count ${kvCount} (limit ${MAX_KVS})`);
  // Each tensor info takes at least 33 bytes and each key/value at least 14.
  if (tensorCount * 33n + kvCount * 14n > BigInt(c.size - c.pos)) {
    throw bad(`${tensorCount} tensors and ${kvCount} metadata keys cannot fit in ${c.size} bytes; the file is probably truncated`);
  }

  const kvs = new Map<string, Value>();
  for (let i = 0; i < Number(kvCount); i++) {
    const key = await c.string(`metadata key #${i}`, MAX_KEY_BYTES);
    if (key.length === 0) throw bad(`metadata key #${i} is empty`);
    if (kvs.has(key)) throw bad(`metadata key '${key}' appears twice`);
    const type = await c.u32(`the type of '${key}'`);
    if (type > V.F64) throw bad(`metadata key '${key}' has unknown value type ${type}`);
    kvs.set(key, await readValue(c, bad, key, type));
  }

  const alignKv = kvs.get('general.alignment');
  let alignment = 32;
  if (alignKv !== undefined) {
    if (alignKv.kind !== 'scalar' || alignKv.type !== V.U32) throw bad(`'general.alignment' must be a uint32`);
    alignment = Number(alignKv.value);
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) throw bad(`'general.alignment' ${alignment} is not a power of two`);
  }

  let parameters = 0n;
  const tensors: { name: string; typeName: string; dims: bigint[]; offset: bigint; bytes: bigint }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < Number(tensorCount); i++) {
    const name = await c.string(`the name of tensor #${i}`, MAX_KEY_BYTES);
    if (name.length === 0 || Buffer.byteLength(name) > MAX_TENSOR_NAME_BYTES) {
      throw bad(`tensor #${i} has an empty name or one longer than ${MAX_TENSOR_NAME_BYTES} bytes`);
    }
    if (names.has(name)) throw bad(`tensor '${name}' appears twice`);
    names.add(name);
    const nDims = await c.u32(`the dimension count of tensor '${name}'`);
    if (nDims < 1 || nDims > 4) throw bad(`tensor '${name}' has ${nDims} dimensions (1 to 4 allowed)`);
    const dims: bigint[] = [];
    let elements = 1n;
    for (let d = 0; d < nDims; d++) {
      const ne = await c.u64(`dimension ${d} of tensor '${name}'`);
      if (ne < 1n) throw bad(`tensor '${name}' has an empty dimension ${d}`);
      elements *= ne;
      if (ne > INT64_MAX || elements > INT64_MAX) throw bad(`tensor '${name}' has too many elements`);
      dims.push(ne);
    }
    const type = await c.u32(`the type of tensor '${name}'`);
    const spec = GGML_TYPES.get(type);
    if (spec === undefined) {
      const why = REMOVED_GGML_TYPES.has(type) ? 'a ggml type that has been removed' : 'an unknown ggml type';
      throw bad(`tensor '${name}' has ${why} (${type}); this build of llama.cpp cannot load it`);
    }
    const [typeName, blockSize, typeSize] = spec;
    if ((dims[0] as bigint) % BigInt(blockSize) !== 0n) {
      throw bad(`tensor '${name}' of type ${typeName} has rows of ${dims[0]} elements, not a multiple of its block size ${blockSize}`);
    }
    const offset = await c.u64(`the data offset of tensor '${name}'`);
    if (offset % BigInt(alignment) !== 0n) throw bad(`tensor '${name}' data offset ${offset} is not aligned to ${alignment} bytes`);
    tensors.push({ name, typeName, dims, offset, bytes: (elements / BigInt(blockSize)) * BigInt(typeSize) });
    parameters += elements;
  }

  const dataOffset = tensors.length > 0 ? Math.ceil(c.pos / alignment) * alignment : c.pos;
  if (dataOffset > c.size) throw bad(`the tensor data section would start at byte ${dataOffset}, past the end of the file (size ${c.size}); it is probably truncated`);
  for (const t of tensors) {
    const end = BigInt(dataOffset) + t.offset + t.bytes;
    if (end > BigInt(c.size)) {
      throw bad(
        `tensor '${t.name}' (${t.typeName}, ${t.dims.join('x')}, ${t.bytes} bytes at data offset ${t.offset}) ends at byte ${end}, ` +
          `but the file has only ${c.size} bytes; it is probably truncated`,
      );
    }
  }
  return summarise(kvs, bad, {
    version,
    tensorCount: tensors.length,
    // Exact below 2^53 (9 quadrillion parameters), far above any model.
    parameterCount: Number(parameters),
    kvCount: kvs.size,
    sizeBytes: c.size,
    dataOffset,
  });
}

async function readValue(c: Cursor, bad: (problem: string) => InferdError, key: string, type: number): Promise<Value> {
  if (type === V.STRING) return { kind: 'string', value: await c.string(`the value of '${key}'`, MAX_STRING_BYTES) };
  if (type !== V.ARRAY) return { kind: 'scalar', type, value: await c.scalar(type, `the value of '${key}'`) };
  const itemType = await c.u32(`the item type of array '${key}'`);
  if (itemType === V.ARRAY) throw bad(`metadata key '${key}' is an array of arrays, which llama.cpp does not support`);
  if (itemType > V.F64) throw bad(`metadata array '${key}' has unknown item type ${itemType}`);
  const n = await c.u64(`the length of array '${key}'`);
  const minItem = BigInt(FIXED_SIZE[itemType] ?? 8); // a string item is at least its 8-byte length
  if (n > BigInt(MAX_ARRAY_ITEMS) || BigInt(c.pos) + n * minItem > BigInt(c.size)) {
    throw bad(`metadata array '${key}' claims ${n} items, which do not fit in the file (limit ${MAX_ARRAY_ITEMS})`);
  }
  const length = Number(n);
  if (itemType === V.STRING) {
    const longestString = await c.skipStrings(length, MAX_STRING_BYTES, `array '${key}'`);
    return { kind: 'array', itemType, length, longestString };
  }
  // Small integer arrays (per-layer head counts and the like) are kept; anything else is skipped.
  if (INTEGER_TYPES.has(itemType) && length <= 4096) {
    const ints: bigint[] = [];
    for (let i = 0; i < length; i++) ints.push(BigInt(await c.scalar(itemType, `item ${i} of '${key}'`)));
    return { kind: 'array', itemType, length, ints };
  }
  c.skip(n * minItem, `metadata array '${key}'`);
  return { kind: 'array', itemType, length };
}

function summarise(
  kvs: ReadonlyMap<string, Value>,
  bad: (problem: string) => InferdError,
  base: Pick<GgufSummary, 'version' | 'tensorCount' | 'parameterCount' | 'kvCount' | 'sizeBytes' | 'dataOffset'>,
): GgufSummary {
  const missing = (key: string, why = ''): InferdError => bad(`required metadata key '${key}' is missing${why}`);
  const str = (key: string): string | undefined => {
    const v = kvs.get(key);
    if (v === undefined) return undefined;
    if (v.kind !== 'string') throw bad(`metadata key '${key}' must be a string`);
    return v.value;
  };
  const positive = (key: string, why = ''): number => {
    const v = kvs.get(key);
    if (v === undefined) throw missing(key, why);
    if (v.kind === 'array' && v.ints !== undefined) {
      if (v.ints.some((x) => x < 0n) || !v.ints.some((x) => x > 0n)) throw bad(`metadata key '${key}' has no positive value`);
      return Number(v.ints.reduce((a, b) => (b > a ? b : a), 0n));
    }
    if (v.kind !== 'scalar' || !INTEGER_TYPES.has(v.type)) throw bad(`metadata key '${key}' must be an integer`);
    const n = BigInt(v.value);
    if (n < 1n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`metadata key '${key}' must be a positive integer, got ${n}`);
    return Number(n);
  };

  const architecture = str('general.architecture');
  if (architecture === undefined || architecture.length === 0) throw missing('general.architecture');
  const contextLength = positive(`${architecture}.context_length`);
  const embeddingLength = positive(`${architecture}.embedding_length`);
  const blockCount = positive(`${architecture}.block_count`);
  if (!NO_ATTENTION_ARCHS.has(architecture)) {
    const why = ' (llama.cpp aborts the whole process without it)';
    positive(`${architecture}.feed_forward_length`, why);
    positive(`${architecture}.attention.head_count`, why);
  }
  if (str('tokenizer.ggml.model') === undefined) throw missing('tokenizer.ggml.model');
  const tokens = kvs.get('tokenizer.ggml.tokens');
  if (tokens === undefined) throw missing('tokenizer.ggml.tokens');
  if (tokens.kind !== 'array' || tokens.itemType !== V.STRING || tokens.length === 0) {
    throw bad(`metadata key 'tokenizer.ggml.tokens' must be a non-empty array of strings`);
  }
  const fileType = kvs.get('general.file_type');
  const name = str('general.name');
  return {
    ...base,
    architecture,
    ...(name !== undefined ? { name } : {}),
    contextLength,
    embeddingLength,
    blockCount,
    ...(fileType?.kind === 'scalar' && INTEGER_TYPES.has(fileType.type) ? { fileType: Number(fileType.value) } : {}),
    hasChatTemplate: (str('tokenizer.chat_template') ?? '').length > 0,
    maxTokenBytes: tokens.longestString ?? 0,
  };
}
