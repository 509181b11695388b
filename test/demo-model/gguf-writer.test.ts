import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { readGgufFileInfo } from 'node-llama-cpp';
import { checkGgufFile } from '../../src/engine/gguf-check.js';
import { encodeGguf, f32ToF16Bits, GgmlType, GgufType, kv, type GgufKv, type GgufTensor } from '../../src/demo-model/gguf-writer.js';

const required: GgufKv[] = [
  kv.str('general.architecture', 'llama'),
  kv.str('general.name', 'writer-test'),
  kv.u32('general.alignment', 32),
  kv.u32('llama.context_length', 128),
  kv.u32('llama.embedding_length', 8),
  kv.u32('llama.block_count', 1),
  kv.u32('llama.feed_forward_length', 16),
  kv.u32('llama.attention.head_count', 2),
  kv.str('tokenizer.ggml.model', 'llama'),
  kv.arr('tokenizer.ggml.tokens', GgufType.STRING, ['<unk>', 'a', 'b\u2581c']),
];
// One key of every scalar type, and arrays of several.
const everyType: GgufKv[] = [
  { key: 'test.u8', type: GgufType.UINT8, value: 250 },
  { key: 'test.i8', type: GgufType.INT8, value: -100 },
  { key: 'test.u16', type: GgufType.UINT16, value: 65000 },
  { key: 'test.i16', type: GgufType.INT16, value: -32000 },
  { key: 'test.u32', type: GgufType.UINT32, value: 4_000_000_000 },
  { key: 'test.i32', type: GgufType.INT32, value: -2_000_000_000 },
  { key: 'test.f32', type: GgufType.FLOAT32, value: 0.5 },
  { key: 'test.bool', type: GgufType.BOOL, value: true },
  { key: 'test.str', type: GgufType.STRING, value: 'caf\u00e9 \u2713' },
  { key: 'test.u64', type: GgufType.UINT64, value: 2n ** 40n },
  { key: 'test.i64', type: GgufType.INT64, value: -(2n ** 40n) },
  { key: 'test.f64', type: GgufType.FLOAT64, value: 1 / 3 },
  kv.arr('test.arr_i32', GgufType.INT32, [1, -2, 3]),
  kv.arr('test.arr_f32', GgufType.FLOAT32, [0.25, -1.5]),
  kv.arr('test.arr_bool', GgufType.BOOL, [true, false]),
  kv.arr('test.arr_str', GgufType.STRING, ['x', '', 'yz']),
];
const tensors: GgufTensor[] = [
  { name: 'a.weight', dims: [8], type: GgmlType.F32, data: Float32Array.from({ length: 8 }, (_, i) => i / 4) },
  { name: 'b.weight', dims: [8, 3], type: GgmlType.F16, data: Float32Array.from({ length: 24 }, (_, i) => i - 12) },
  { name: 'c.weight', dims: [5], type: GgmlType.F16, data: new Float32Array([1, 2, 3, 4, 5]) },
];

t.test('f32ToF16Bits rounds like IEEE half precision', async (t) => {
  const cases: Array<[number, number]> = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
    [65520, 0x7c00], // halfway to the next step rounds (to even) into infinity
    [Infinity, 0x7c00], [-Infinity, 0xfc00], [0.1, 0x2e66], [1 / 3, 0x3555],
    [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [2 ** -14, 0x0400],
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], // ties to even
  ];
  for (const [x, bits] of cases) t.equal(f32ToF16Bits(x), bits, `f16(${x})`);
  t.equal(f32ToF16Bits(NaN) & 0x7c00, 0x7c00, 'NaN keeps an all-ones exponent');
  t.not(f32ToF16Bits(NaN) & 0x3ff, 0, 'NaN keeps a mantissa');
});

t.test('encodeGguf output parses back', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inferd-writer-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const buf = encodeGguf([...required, ...everyType], tensors);
  t.same(encodeGguf([...required, ...everyType], tensors), buf, 'same input, same bytes');
  t.equal(buf.toString('latin1', 0, 4), 'GGUF');
  t.equal(buf.readUInt32LE(4), 3, 'version 3');
  t.equal(buf.readBigUInt64LE(8), 3n, 'tensor count');
  t.equal(buf.readBigUInt64LE(16), BigInt(required.length + everyType.length), 'kv count');
  const file = path.join(dir, 'w.gguf');
  await writeFile(file, buf);

  // node-llama-cpp's own (JS) GGUF reader is an independent parser.
  const info = await readGgufFileInfo(file, { logWarnings: false });
  const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
  t.equal(info.version, 3);
  t.equal(Number(info.tensorCount), 3);
  t.equal(md.general?.architecture, 'llama');
  t.equal(md.general?.name, 'writer-test');
  const test = md.test as Record<string, unknown>;
  t.equal(test.u8, 250);
  t.equal(test.i8, -100);
  t.equal(test.u16, 65000);
  t.equal(test.i16, -32000);
  t.equal(test.u32, 4_000_000_000);
  t.equal(test.i32, -2_000_000_000);
  t.equal(test.f32, 0.5);
  t.equal(test.bool, true);
  t.equal(test.str, 'caf\u00e9 \u2713');
  t.equal(BigInt(test.u64 as number), 2n ** 40n);
  t.equal(BigInt(test.i64 as number), -(2n ** 40n));
  t.equal(test.f64, 1 / 3);
  t.same(test.arr_i32, [1, -2, 3]);
  t.same(test.arr_f32, [0.25, -1.5]);
  t.same(test.arr_bool, [true, false]);
  t.same(test.arr_str, ['x', '', 'yz']);
  t.same((md.tokenizer as Record<string, Record<string, unknown>>).ggml?.tokens, ['<unk>', 'a', 'b\u2581c']);

  const ti = info.tensorInfo ?? [];
  t.same(ti.map((x) => x.name), ['a.weight', 'b.weight', 'c.weight']);
  t.same(ti.map((x) => x.dimensions.map(Number)), [[8], [8, 3], [5]]);
  t.same(ti.map((x) => x.ggmlType), [0, 1, 1]);
  t.same(ti.map((x) => Number(x.offset)), [0, 32, 96], 'offsets are 32-byte aligned and packed');

  const summary = await checkGgufFile(file);
  t.equal(summary.dataOffset % 32, 0, 'data section is aligned');
  t.equal(summary.dataOffset, info.infoEndOffset);
  t.equal(summary.sizeBytes, buf.length);
  t.equal(buf.length, summary.dataOffset + 96 + 32, 'file ends with the padded last tensor');

  // Tensor data round-trips: F32 exact, F16 exact for these small integers.
  const a = summary.dataOffset;
  t.same(Array.from({ length: 8 }, (_, i) => buf.readFloatLE(a + 4 * i)), Array.from({ length: 8 }, (_, i) => i / 4));
  t.equal(buf.readUInt16LE(a + 32), f32ToF16Bits(-12));
  t.equal(buf.readUInt16LE(a + 32 + 2 * 23), f32ToF16Bits(11));
});

t.test('encodeGguf refuses what llama.cpp would refuse', async (t) => {
  t.throws(() => encodeGguf([...required, kv.u32('llama.block_count', 2)], tensors), /duplicate key/);
  t.throws(
    () => encodeGguf([...required, { key: 'x', type: GgufType.ARRAY, itemType: GgufType.ARRAY as never, value: [] }], []),
    /nested arrays/,
  );
  t.throws(() => encodeGguf(required, [{ name: 'x', dims: [2, 2], type: GgmlType.F32, data: new Float32Array(3) }]), /3 values/);
  t.throws(() => encodeGguf(required, [], 48), /power of two/);
  t.throws(() => encodeGguf(required, [], 64), /general.alignment/);
});
