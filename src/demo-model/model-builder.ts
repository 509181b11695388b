// Turns the corpus bigram statistics into llama weights that llama.cpp runs unchanged.
//
// The trick: every context token gets its own embedding dimension (one-hot, magnitude 1; tokens
// never seen as a context share one "other" dimension). attn_output and ffn_down are all zero,
// so each block adds nothing and the residual stream still holds the one-hot vector at the end.
// The final RMS norm scales it to s = 1 / sqrt(1/n_embd + eps), so with
// output.weight[v, dim(c)] = log P(v | c) / s the logits are exactly the log-probabilities and
// sampling reproduces the bigram distribution. Attention is kept as narrow as llama.cpp allows
// (its width is free: key_length decouples head size from n_embd), which keeps the file, the
// KV cache and the per-token work small. No randomness is involved: all other weights are 0 or 1.
import { estimateBigram, type BigramOptions } from './bigram.js';
import { corpusParagraphs } from './corpus/index.js';
import { encodeGguf, GgmlType, GgufType, kv, type GgufKv, type GgufTensor } from './gguf-writer.js';
import { SpmTokenizer } from './spm-tokenizer.js';
import { learnVocab, type Vocab } from './vocab.js';

export interface DemoBuildOptions {
  name: string;
  merges: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  /** key_length = value_length = rope dimension count. */
  headDim: number;
  nFf: number;
  /** Store the 2-D tensors as F16 (norms stay F32). */
  f16: boolean;
  contextLength: number;
  /** n_embd is the number of context dimensions rounded up to a multiple of this. */
  embdMultiple: number;
  bigram: BigramOptions;
}

/** Everything that goes into the file, before encoding (tests use it to craft variants). */
export interface DemoParts {
  kvs: GgufKv[];
  tensors: GgufTensor[];
  vocab: Vocab;
  info: {
    nVocab: number;
    nEmbd: number;
    contexts: number;
    merges: number;
    corpusTokens: number;
    paragraphs: number;
    corpusChars: number;
  };
}

const RMS_EPS = 1e-5;
/** Logit for tokens that must (practically) never follow: e^-30 is far below any sampler cut-off. */
const FLOOR_LOGIT = -30;

// ChatML, which node-llama-cpp recognises by rendering the template.
export const CHATML_TEMPLATE =
  "{%- for message in messages -%}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}" +
  '{%- endfor -%}' +
  "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}";

export interface DemoBuild extends DemoParts {
  buffer: Buffer;
}

export function buildDemoGguf(opts: DemoBuildOptions): DemoBuild {
  const parts = buildDemoParts(opts);
  return { ...parts, buffer: encodeGguf(parts.kvs, parts.tensors) };
}

export function buildDemoParts(opts: DemoBuildOptions): DemoParts {
  const paragraphs = corpusParagraphs();
  const vocab = learnVocab(paragraphs, opts.merges);
  const tokenizer = new SpmTokenizer(vocab);
  const stats = estimateBigram(vocab, tokenizer, paragraphs, opts.bigram);
  const nVocab = vocab.tokens.length;

  const dimOf = new Map<number, number>(stats.contexts.map((t, i) => [t, i]));
  const otherDim = stats.contexts.length;
  const nEmbd = Math.ceil((otherDim + 1) / opts.embdMultiple) * opts.embdMultiple;
  const s = 1 / Math.sqrt(1 / nEmbd + RMS_EPS);

  const tokEmbd = new Float32Array(nEmbd * nVocab);
  for (let t = 0; t < nVocab; t++) tokEmbd[t * nEmbd + (dimOf.get(t) ?? otherDim)] = 1;

  // Unused dimensions (padding) keep weight 0: no token ever lights them up.
  const output = new Float32Array(nEmbd * nVocab);
  const fillColumn = (dim: number, probs: Float64Array): void => {
    for (let v = 0; v < nVocab; v++) {
      const p = probs[v] as number;
      output[v * nEmbd + dim] = Math.max(p > 0 ? Math.log(p) : FLOOR_LOGIT, FLOOR_LOGIT) / s;
    }
  };
  stats.contexts.forEach((ctx, dim) => fillColumn(dim, stats.row(ctx)));
  fillColumn(otherDim, stats.row(undefined));

  const wtype = opts.f16 ? GgmlType.F16 : GgmlType.F32;
  const qWidth = opts.nHead * opts.headDim;
  const kvWidth = opts.nHeadKv * opts.headDim;
  const tensors: GgufTensor[] = [];
  const add = (name: string, dims: number[], data?: Float32Array, type: 0 | 1 = wtype): void => {
    tensors.push({ name, dims, type, data: data ?? new Float32Array(dims.reduce((a, b) => a * b, 1)) });
  };
  const ones = (len: number): Float32Array => new Float32Array(len).fill(1);
  add('token_embd.weight', [nEmbd, nVocab], tokEmbd);
  for (let l = 0; l < opts.nLayer; l++) {
    add(`blk.${l}.attn_norm.weight`, [nEmbd], ones(nEmbd), GgmlType.F32);
    add(`blk.${l}.attn_q.weight`, [nEmbd, qWidth]);
    add(`blk.${l}.attn_k.weight`, [nEmbd, kvWidth]);
    add(`blk.${l}.attn_v.weight`, [nEmbd, kvWidth]);
    add(`blk.${l}.attn_output.weight`, [qWidth, nEmbd]);
    add(`blk.${l}.ffn_norm.weight`, [nEmbd], ones(nEmbd), GgmlType.F32);
    add(`blk.${l}.ffn_gate.weight`, [nEmbd, opts.nFf]);
    add(`blk.${l}.ffn_up.weight`, [nEmbd, opts.nFf]);
    add(`blk.${l}.ffn_down.weight`, [opts.nFf, nEmbd]);
  }
  add('output_norm.weight', [nEmbd], ones(nEmbd), GgmlType.F32);
  add('output.weight', [nEmbd, nVocab], output);

  return {
    kvs: demoMetadata(opts, vocab, nEmbd),
    tensors,
    vocab,
    info: {
      nVocab,
      nEmbd,
      contexts: stats.contexts.length,
      merges: vocab.mergeCount,
      corpusTokens: stats.corpusTokens,
      paragraphs: paragraphs.length,
      corpusChars: paragraphs.reduce((a, p) => a + p.length + 1, 0),
    },
  };
}

function demoMetadata(opts: DemoBuildOptions, vocab: Vocab, nEmbd: number): GgufKv[] {
  return [
    kv.str('general.architecture', 'llama'),
    kv.str('general.type', 'model'),
    kv.str('general.name', opts.name),
    kv.u32('general.file_type', opts.f16 ? 1 : 0),
    kv.u32('general.alignment', 32),
    kv.u32('llama.vocab_size', vocab.tokens.length),
    kv.u32('llama.context_length', opts.contextLength),
    kv.u32('llama.embedding_length', nEmbd),
    kv.u32('llama.block_count', opts.nLayer),
    kv.u32('llama.feed_forward_length', opts.nFf),
    kv.u32('llama.attention.head_count', opts.nHead),
    kv.u32('llama.attention.head_count_kv', opts.nHeadKv),
    kv.u32('llama.attention.key_length', opts.headDim),
    kv.u32('llama.attention.value_length', opts.headDim),
    kv.f32('llama.attention.layer_norm_rms_epsilon', RMS_EPS),
    kv.u32('llama.rope.dimension_count', opts.headDim),
    kv.f32('llama.rope.freq_base', 10000),
    kv.str('tokenizer.ggml.model', 'llama'),
    kv.arr('tokenizer.ggml.tokens', GgufType.STRING, vocab.tokens),
    kv.arr('tokenizer.ggml.scores', GgufType.FLOAT32, vocab.scores),
    kv.arr('tokenizer.ggml.token_type', GgufType.INT32, vocab.types),
    kv.u32('tokenizer.ggml.bos_token_id', vocab.bos),
    kv.u32('tokenizer.ggml.eos_token_id', vocab.eos),
    kv.u32('tokenizer.ggml.unknown_token_id', vocab.unk),
    kv.u32('tokenizer.ggml.padding_token_id', vocab.unk),
    kv.u32('tokenizer.ggml.eot_token_id', vocab.imEnd),
    kv.bool('tokenizer.ggml.add_bos_token', true),
    kv.bool('tokenizer.ggml.add_eos_token', false),
    kv.bool('tokenizer.ggml.add_space_prefix', true),
    kv.str('tokenizer.chat_template', CHATML_TEMPLATE),
  ];
}
