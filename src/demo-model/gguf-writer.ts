// A GGUF v3 writer that lays out a whole file in one Buffer: header, metadata key/values,
// tensor infos, then the aligned data section. Enough of the format for our own models (F32 and
// F16 tensors, every scalar metadata type and arrays of them); nested arrays are refused because
// llama.cpp refuses them too.
import { InferdError } from '../errors.js';

export const GGUF_MAGIC = 'GGUF';
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** GGUF metadata value types, numbered as in the format. */
export const GgufType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufScalarType = Exclude<(typeof GgufType)[keyof typeof GgufType], typeof GgufType.ARRAY>;

/** The tensor types this writer can encode (ggml numbering). */
export const GgmlType = { F32: 0, F16: 1 } as const;
export type WritableGgmlType = (typeof GgmlType)[keyof typeof GgmlType];

export type GgufScalar = number | bigint | boolean | string;

export type GgufKv =
  | { key: string; type: GgufScalarType; value: GgufScalar }
  | { key: string; type: typeof GgufType.ARRAY; itemType: GgufScalarType; value: readonly GgufScalar[] };

export interface GgufTensor {
  name: string;
  /** ggml order: ne[0] (the contiguous dimension) first. */
  dims: readonly number[];
  type: WritableGgmlType;
  data: Float32Array;
}

/** Small constructors so that model code reads as a list of keys. */
export const kv = {
  u32: (key: string, value: number): GgufKv => ({ key, type: GgufType.UINT32, value }),
  f32: (key: string, value: number): GgufKv => ({ key, type: GgufType.FLOAT32, value }),
  bool: (key: string, value: boolean): GgufKv => ({ key, type: GgufType.BOOL, value }),
  str: (key: string, value: string): GgufKv => ({ key, type: GgufType.STRING, value }),
  arr: (key: string, itemType: GgufScalarType, value: readonly GgufScalar[]): GgufKv => ({
    key,
    type: GgufType.ARRAY,
    itemType,
    value,
  }),
};

const SCALAR_SIZE: Record<Exclude<GgufScalarType, typeof GgufType.STRING>, number> = {
  [GgufType.UINT8]: 1,
  [GgufType.INT8]: 1,
  [GgufType.UINT16]: 2,
  [GgufType.INT16]: 2,
  [GgufType.UINT32]: 4,
  [GgufType.INT32]: 4,
  [GgufType.FLOAT32]: 4,
  [GgufType.BOOL]: 1,
  [GgufType.UINT64]: 8,
  [GgufType.INT64]: 8,
  [GgufType.FLOAT64]: 8,
};

function fail(message: string): never {
  throw new InferdError('internal', `gguf writer: ${message}`);
}

function valueSize(type: GgufScalarType, value: GgufScalar): number {
  if (type === GgufType.STRING) return 8 + Buffer.byteLength(String(value), 'utf8');
  const size = SCALAR_SIZE[type];
  if (size === undefined) fail(`unknown value type ${type}`);
  return size;
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function tensorBytes(t: GgufTensor): number {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) fail(`tensor ${t.name}: ${t.data.length} values for dims [${t.dims.join(', ')}]`);
  return n * (t.type === GgmlType.F32 ? 4 : 2);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half-precision bits of a float, rounded to nearest even (as numpy and ggml do). */
export function f32ToF16Bits(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  let shift = 13;
  let half: number;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000; // the implicit leading one becomes explicit in a subnormal half
    shift = 14 - e;
    half = mant >>> shift;
  } else {
    half = (e << 10) | (mant >>> 13);
  }
  const rem = mant & ((1 << shift) - 1);
  const mid = 1 << (shift - 1);
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rem > mid || (rem === mid && (half & 1) === 1)) half++;
  return sign | half;
}

class Cursor {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  u32(v: number): void {
    this.pos = this.buf.writeUInt32LE(v, this.pos);
  }
  u64(v: number | bigint): void {
    this.pos = this.buf.writeBigUInt64LE(BigInt(v), this.pos);
  }
  str(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.u64(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }
  scalar(type: GgufScalarType, v: GgufScalar): void {
    const b = this.buf;
    switch (type) {
      case GgufType.UINT8: this.pos = b.writeUInt8(Number(v), this.pos); break;
      case GgufType.INT8: this.pos = b.writeInt8(Number(v), this.pos); break;
      case GgufType.UINT16: this.pos = b.writeUInt16LE(Number(v), this.pos); break;
      case GgufType.INT16: this.pos = b.writeInt16LE(Number(v), this.pos); break;
      case GgufType.UINT32: this.pos = b.writeUInt32LE(Number(v), this.pos); break;
      case GgufType.INT32: this.pos = b.writeInt32LE(Number(v), this.pos); break;
      case GgufType.FLOAT32: this.pos = b.writeFloatLE(Number(v), this.pos); break;
      case GgufType.BOOL: this.pos = b.writeUInt8(v ? 1 : 0, this.pos); break;
      case GgufType.STRING: this.str(String(v)); break;
      case GgufType.UINT64: this.pos = b.writeBigUInt64LE(BigInt(v), this.pos); break;
      case GgufType.INT64: this.pos = b.writeBigInt64LE(BigInt(v), this.pos); break;
      case GgufType.FLOAT64: this.pos = b.writeDoubleLE(Number(v), this.pos); break;
      default: fail(`unknown value type ${String(type)}`);
    }
  }
  tensorData(t: GgufTensor): void {
    const { data } = t;
    if (t.type === GgmlType.F32) {
      for (let i = 0; i < data.length; i++) this.pos = this.buf.writeFloatLE(data[i] as number, this.pos);
    } else {
      for (let i = 0; i < data.length; i++) this.pos = this.buf.writeUInt16LE(f32ToF16Bits(data[i] as number), this.pos);
    }
  }
}

/** Encodes a complete GGUF v3 file. Padding bytes are zero, so equal inputs give equal bytes. */
export function encodeGguf(
  kvs: readonly GgufKv[],
  tensors: readonly GgufTensor[],
  alignment: number = GGUF_DEFAULT_ALIGNMENT,
): Buffer {
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    fail(`alignment ${alignment} is not a power of two`);
  }
  const alignKv = kvs.find((k) => k.key === 'general.alignment');
  if (alignKv !== undefined ? alignKv.value !== alignment : alignment !== GGUF_DEFAULT_ALIGNMENT) {
    fail('general.alignment must be written and must equal the alignment used');
  }
  const seen = new Set<string>();
  let size = 4 + 4 + 8 + 8;
  for (const k of kvs) {
    if (seen.has(k.key)) fail(`duplicate key ${k.key}`);
    seen.add(k.key);
    size += valueSize(GgufType.STRING, k.key) + 4;
    if (k.type === GgufType.ARRAY) {
      if ((k.itemType as number) === GgufType.ARRAY) fail(`${k.key}: nested arrays are not supported`);
      size += 4 + 8;
      for (const v of k.value) size += valueSize(k.itemType, v);
    } else {
      size += valueSize(k.type, k.value);
    }
  }
  const offsets: number[] = [];
  let dataSize = 0;
  for (const t of tensors) {
    if (t.dims.length < 1 || t.dims.length > 4) fail(`tensor ${t.name}: ${t.dims.length} dims`);
    size += valueSize(GgufType.STRING, t.name) + 4 + 8 * t.dims.length + 4 + 8;
    offsets.push(dataSize);
    dataSize = alignUp(dataSize + tensorBytes(t), alignment);
  }
  const dataStart = alignUp(size, alignment);
  const buf = Buffer.alloc(dataStart + dataSize);
  const c = new Cursor(buf);
  c.pos += buf.write(GGUF_MAGIC, 0, 'ascii');
  c.u32(GGUF_VERSION);
  c.u64(tensors.length);
  c.u64(kvs.length);
  for (const k of kvs) {
    c.str(k.key);
    c.u32(k.type);
    if (k.type === GgufType.ARRAY) {
      c.u32(k.itemType);
      c.u64(k.value.length);
      for (const v of k.value) c.scalar(k.itemType, v);
    } else {
      c.scalar(k.type, k.value);
    }
  }
  tensors.forEach((t, i) => {
    c.str(t.name);
    c.u32(t.dims.length);
    for (const d of t.dims) c.u64(d);
    c.u32(t.type);
    c.u64(offsets[i] as number);
  });
  tensors.forEach((t, i) => {
    c.pos = dataStart + (offsets[i] as number);
    c.tensorData(t);
  });
  return buf;
}
