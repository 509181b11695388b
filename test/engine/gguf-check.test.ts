import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t, { type Test } from 'tap';
import { Value } from 'typebox/value';
import { DEMO_BUILD_OPTIONS, DEMO_MODELS } from '../../src/demo-model/index.js';
import { encodeGguf, GgmlType, GgufType, kv, type GgufKv } from '../../src/demo-model/gguf-writer.js';
import { buildDemoParts } from '../../src/demo-model/model-builder.js';
import { checkGgufFile, GgufSummarySchema } from '../../src/engine/gguf-check.js';
import { demoModelPath } from '../helpers/demo-model.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'inferd-gguf-check-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const parts = buildDemoParts(DEMO_BUILD_OPTIONS.tiny);
const demo = await readFile(await demoModelPath('tiny'));
const demoSummary = await checkGgufFile(await demoModelPath('tiny'));

let n = 0;
async function file(bytes: Buffer | string): Promise<string> {
  const p = path.join(dir, `crafted-${n++}.gguf`);
  await writeFile(p, bytes);
  return p;
}

/** Asserts that checking `bytes` fails with model_invalid, naming the file and matching `why`. */
async function refused(t: Test, bytes: Buffer | string, why: RegExp, label: string): Promise<void> {
  const p = await file(bytes);
  const err = await checkGgufFile(p).then(
    () => undefined,
    (e: unknown) => e as { code?: string; message?: string },
  );
  t.equal(err?.code, 'model_invalid', `${label}: model_invalid`);
  t.ok(err?.message?.includes(p), `${label}: the message names the file`);
  const message = err?.message ?? '';
  t.match(message, why, `${label}: ${message.slice(message.indexOf(' model: ') + 8)}`);
}

/** Byte offset of the info of tensor `name`: just past its name. */
function tensorInfoAt(buf: Buffer, name: string): { nDims: number; dimsAt: number; typeAt: number; offsetAt: number } {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(name.length));
  const at = buf.indexOf(Buffer.concat([len, Buffer.from(name)])) + 8 + name.length;
  const nDims = buf.readUInt32LE(at);
  return { nDims, dimsAt: at + 4, typeAt: at + 4 + 8 * nDims, offsetAt: at + 8 + 8 * nDims };
}
/** Byte offset just past key `key` (where its type is). */
function kvAt(buf: Buffer, key: string): number {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(key.length));
  return buf.indexOf(Buffer.concat([len, Buffer.from(key)])) + 8 + key.length;
}
function patched(edit: (b: Buffer) => void): Buffer {
  const b = Buffer.from(demo);
  edit(b);
  return b;
}

t.test('the demo models pass and are summarised', async (t) => {
  const tokens = parts.kvs.find((k) => k.key === 'tokenizer.ggml.tokens')!.value as readonly string[];
  const longestToken = Math.max(...tokens.map((token) => Buffer.byteLength(token)));
  t.ok(longestToken > 3, 'the longest token is a learned word piece');
  t.ok(Value.Check(GgufSummarySchema, demoSummary), 'summary matches its schema');
  t.same(
    { ...demoSummary, dataOffset: 0 },
    {
      version: 3,
      architecture: 'llama',
      name: 'inferd-demo-tiny',
      tensorCount: 12,
      parameterCount: parts.tensors.reduce((sum, tensor) => sum + tensor.dims.reduce((a, b) => a * b, 1), 0),
      kvCount: parts.kvs.length,
      contextLength: 8192,
      embeddingLength: 800,
      blockCount: 1,
      fileType: 1,
      hasChatTemplate: true,
      maxTokenBytes: longestToken,
      sizeBytes: DEMO_MODELS.tiny.sizeBytes,
      dataOffset: 0,
    },
  );
  t.equal(demoSummary.dataOffset % 32, 0);
  const big = await checkGgufFile(await demoModelPath('default'));
  t.equal(big.name, 'inferd-demo');
  t.equal(big.sizeBytes, DEMO_MODELS.default.sizeBytes);
});

t.test('headers', async (t) => {
  await refused(t, 'GGUF', /ends at byte 4 while reading the version/, 'a 4-byte file GGUF');
  await refused(t, '', /ends at byte 0 while reading the magic/, 'an empty file');
  await refused(t, patched((b) => b.write('GGML', 0, 'latin1')), /does not start with the GGUF magic bytes/, 'wrong magic');
  await refused(t, Buffer.from('<html>not a model</html>'), /does not start with the GGUF magic bytes/, 'an HTML page');
  await t.rejects(checkGgufFile(dir), { code: 'model_invalid', message: /not a regular file/ }, 'a directory');
  await t.rejects(checkGgufFile(path.join(dir, 'missing.gguf')), { code: 'model_missing', message: /cannot read model file .*missing\.gguf/ }, 'a missing file');
  await refused(t, patched((b) => b.writeUInt32LE(99, 4)), /unsupported GGUF version 99/, 'version 99');
  await refused(t, patched((b) => b.writeUInt32LE(1, 4)), /version 1 .*no longer supported/, 'version 1');
  await refused(t, patched((b) => b.writeUInt32LE(0x03000000, 4)), /big-endian/, 'byte-swapped version');
  await refused(t, patched((b) => b.writeBigUInt64LE(2n ** 40n, 8)), /implausible tensor count 1099511627776/, 'huge tensor count');
  await refused(t, patched((b) => b.writeBigUInt64LE(2n ** 64n - 1n, 8)), /implausible tensor count/, 'tensor count 2^64-1');
  await refused(t, patched((b) => b.writeBigUInt64LE(2n ** 63n, 16)), /implausible metadata count/, 'huge KV count');
  await refused(t, patched((b) => b.writeBigUInt64LE(1000n, 16)), /runs past the end|claims|unknown value type|appears twice/, 'KV count too high');
});

t.test('metadata', async (t) => {
  await refused(t, patched((b) => b.writeBigUInt64LE(2n ** 63n, 24)), /metadata key #0 claims a length of 9223372036854775808/, 'key length 2^63');
  await refused(t, patched((b) => b.writeBigUInt64LE(0n, 24)), /metadata key #0 is empty/, 'empty key');
  const nameAt = kvAt(demo, 'general.name');
  await refused(t, patched((b) => b.writeBigUInt64LE(2n ** 63n, nameAt + 4)), /value of 'general.name' claims a length/, 'value length 2^63');
  await refused(t, patched((b) => b.writeBigUInt64LE(5_000_000n, nameAt + 4)), /'general.name' \(5000000 bytes.*past the end/, 'value past EOF');
  await refused(t, patched((b) => b.writeUInt32LE(13, nameAt)), /'general.name' has unknown value type 13/, 'unknown value type');
  const tokAt = kvAt(demo, 'tokenizer.ggml.tokens');
  await refused(t, patched((b) => b.writeUInt32LE(GgufType.ARRAY, tokAt + 4)), /array of arrays/, 'nested array');
  await refused(t, patched((b) => b.writeUInt32LE(77, tokAt + 4)), /unknown item type 77/, 'unknown array item type');
  await refused(t, patched((b) => b.writeBigUInt64LE(2n ** 62n, tokAt + 8)), /claims 4611686018427387904 items/, 'huge array');
  await refused(t, patched((b) => b.writeBigUInt64LE(2n ** 63n, tokAt + 16)), /item 0 of array 'tokenizer.ggml.tokens' claims a length/, 'array string length 2^63');
  const dup = encodeGguf(parts.kvs, parts.tensors);
  dup.write('general.type', kvAt(dup, 'general.name') - 12, 'latin1'); // same length as general.name
  await refused(t, dup, /'general.type' appears twice/, 'duplicate key');
  const alignAt = kvAt(demo, 'general.alignment');
  await refused(t, patched((b) => b.writeUInt32LE(48, alignAt + 4)), /alignment' 48 is not a power of two/, 'alignment 48');
  await refused(t, patched((b) => b.writeUInt32LE(GgufType.INT32, alignAt)), /alignment' must be a uint32/, 'alignment type');
});

t.test('tensor infos and data', async (t) => {
  const out = tensorInfoAt(demo, 'output.weight');
  const emb = tensorInfoAt(demo, 'token_embd.weight');
  await refused(t, patched((b) => b.writeUInt32LE(99, out.typeAt)), /'output.weight' has an unknown ggml type \(99\)/, 'unknown ggml type');
  await refused(t, patched((b) => b.writeUInt32LE(4, out.typeAt)), /ggml type that has been removed \(4\)/, 'removed ggml type');
  await refused(t, patched((b) => b.writeUInt32LE(12, out.typeAt)), /q4_K has rows of 800 elements, not a multiple of its block size 256/, 'block size');
  await refused(t, patched((b) => b.writeUInt32LE(0, out.dimsAt - 4)), /0 dimensions/, 'zero dims');
  await refused(t, patched((b) => b.writeUInt32LE(5, out.dimsAt - 4)), /5 dimensions/, 'five dims');
  await refused(t, patched((b) => b.writeBigUInt64LE(0n, out.dimsAt)), /empty dimension 0/, 'empty dimension');
  await refused(t, patched((b) => b.writeBigUInt64LE(2n ** 62n, out.dimsAt + 8)), /too many elements/, 'element count overflow');
  await refused(t, patched((b) => b.writeBigUInt64LE(16n, emb.offsetAt)), /offset 16 is not aligned to 32/, 'misaligned offset');
  await refused(t, patched((b) => b.writeBigUInt64LE(2n ** 40n, out.offsetAt)), /'output.weight' .* ends at byte \d+, but the file has only/, 'tensor offset past EOF');
  await refused(t, patched((b) => b.writeBigUInt64LE(2n ** 40n, out.dimsAt + 8)), /'output.weight' .*probably truncated/, 'tensor larger than the file');
  const vAt = tensorInfoAt(demo, 'blk.0.attn_v.weight').dimsAt - 4 - 'weight'.length - 2; // the 'v'
  await refused(t, patched((b) => b.write('k', vAt, 'latin1')), /tensor 'blk.0.attn_k.weight' appears twice/, 'duplicate tensor name');
});

t.test('truncated files', async (t) => {
  const cuts: Array<[number, RegExp, string]> = [
    [3, /while reading the magic/, 'inside the magic'],
    [20, /while reading the metadata count/, 'inside the header'],
    [100, /12 tensors and 30 metadata keys cannot fit in 100 bytes; the file is probably truncated/, 'inside the first KVs'],
    [1000, /runs past the end of the file|ends at byte 1000|do not fit in the file/, 'inside the KVs'],
    [kvAt(demo, 'tokenizer.ggml.tokens') + 12_000, /item \d+ of array 'tokenizer.ggml.tokens' .*runs past the end of the file/, 'inside the token array'],
    [tensorInfoAt(demo, 'blk.0.ffn_up.weight').typeAt, /ends at byte \d+ while reading the type of tensor 'blk.0.ffn_up.weight'/, 'inside tensor infos'],
    [demoSummary.dataOffset + 10, /'token_embd.weight' .*probably truncated/, 'inside the first tensor'],
    [demo.length - 1, /'output.weight' .*has only \d+ bytes; it is probably truncated/, 'one byte short'],
  ];
  const infoEnd = tensorInfoAt(demo, 'output.weight').offsetAt + 8;
  if (demoSummary.dataOffset > infoEnd) cuts.push([infoEnd, /data section would start at byte \d+, past the end/, 'before the padding']);
  for (const [at, why, label] of cuts) await refused(t, demo.subarray(0, at), why, `cut at ${at} (${label})`);
});

const REQUIRED = [
  'general.architecture',
  'llama.context_length',
  'llama.embedding_length',
  'llama.block_count',
  'llama.feed_forward_length',
  'llama.attention.head_count',
  'tokenizer.ggml.model',
  'tokenizer.ggml.tokens',
];

t.test('required metadata', async (t) => {
  for (const key of REQUIRED) {
    const bytes = encodeGguf(parts.kvs.filter((k) => k.key !== key), parts.tensors);
    await refused(t, bytes, new RegExp(`required metadata key '${key.replaceAll('.', '\\.')}' is missing`), `without ${key}`);
  }
  const zeroHeads = parts.kvs.map((k) => (k.key === 'llama.attention.head_count' ? kv.u32(k.key, 0) : k));
  await refused(t, encodeGguf(zeroHeads, parts.tensors), /'llama.attention.head_count' must be a positive integer, got 0/, 'zero heads');
  const strCtx = parts.kvs.map((k) => (k.key === 'llama.context_length' ? kv.str(k.key, '8192') : k));
  await refused(t, encodeGguf(strCtx, parts.tensors), /'llama.context_length' must be an integer/, 'string context length');

  // Per-layer arrays are accepted; recurrent architectures may lack heads and feed-forward sizes.
  const perLayer = parts.kvs.map((k) => (k.key === 'llama.attention.head_count' ? kv.arr(k.key, GgufType.INT32, [1]) : k));
  t.equal((await checkGgufFile(await file(encodeGguf(perLayer, parts.tensors)))).architecture, 'llama', 'per-layer head counts');
  const mamba: GgufKv[] = [
    kv.str('general.architecture', 'mamba'),
    kv.u32('mamba.context_length', 1 << 20),
    kv.u32('mamba.embedding_length', 8),
    kv.u32('mamba.block_count', 1),
    kv.u32('mamba.feed_forward_length', 0),
    kv.str('tokenizer.ggml.model', 'gpt2'),
    kv.arr('tokenizer.ggml.tokens', GgufType.STRING, ['a', 'b']),
  ];
  const tiny = [{ name: 'token_embd.weight', dims: [8, 2], type: GgmlType.F32, data: new Float32Array(16) }];
  const s = await checkGgufFile(await file(encodeGguf(mamba, tiny)));
  t.same([s.architecture, s.blockCount, s.hasChatTemplate, s.fileType, s.name], ['mamba', 1, false, undefined, undefined]);
});

t.test('guards something real: llama.cpp aborts the process on a file we refuse', async (t) => {
  const bad = await file(encodeGguf(parts.kvs.filter((k) => k.key !== 'llama.feed_forward_length'), parts.tensors));
  await t.rejects(checkGgufFile(bad), { code: 'model_invalid', message: /feed_forward_length' is missing/ });
  // Only ever in a child process: the abort cannot be caught and would end this test run.
  const nlc = pathToFileURL(createRequire(import.meta.url).resolve('node-llama-cpp')).href;
  const script = path.join(dir, 'load.mjs');
  await writeFile(
    script,
    `import { getLlama, LlamaLogLevel } from ${JSON.stringify(nlc)};\n` +
      `const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.error });\n` +
      `await llama.loadModel({ modelPath: process.argv[2] });\n` +
      `console.log('loaded');\n`,
  );
  const good = spawnSync(process.execPath, [script, await demoModelPath('tiny')], { encoding: 'utf8', timeout: 60_000 });
  t.equal(good.status, 0, 'control: the demo model loads in the child', { stderr: good.stderr.slice(-500) });
  const r = spawnSync(process.execPath, [script, bad], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.signal, 'SIGABRT', 'the child dies of SIGABRT', { status: r.status, stderr: r.stderr.slice(-500) });
  t.match(r.stderr, /GGML_ASSERT/, 'from a GGML_ASSERT in the model loader');
  t.notMatch(r.stdout, /loaded/);
});
