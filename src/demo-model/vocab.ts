// A SentencePiece-style vocabulary learned from the corpus with byte-pair merges.
//
// Layout (ids in this order): <unk> <s> </s>, the 256 byte tokens <0x00>..<0xFF>, "▁" and the
// printable ASCII characters, the learned merges, then <|im_start|> <|im_end|>. A merge's score
// is minus its rank, so llama.cpp's SPM tokenizer (highest score first) merges in BPE order.
// BPE runs over the same segments the tokenizer sees: "▁word" inside a paragraph and bare
// "word" right after a newline, so paragraph openings get word-sized tokens too.

export const SPM_SPACE = '\u2581';

/** llama.cpp token types (llama_token_type). */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, BYTE: 6 } as const;

export interface Vocab {
  readonly tokens: readonly string[];
  readonly scores: readonly number[];
  readonly types: readonly number[];
  readonly idOf: ReadonlyMap<string, number>;
  readonly unk: number;
  readonly bos: number;
  readonly eos: number;
  /** id of <0x00>; byte b is byte0 + b. */
  readonly byte0: number;
  readonly newline: number;
  readonly imStart: number;
  readonly imEnd: number;
  readonly mergeCount: number;
}

/** Splits tokenizer input (spaces already turned into "▁") into the units no merge crosses. */
export function splitSegments(escaped: string): string[] {
  return escaped.match(/\u2581[^\u2581\n]*|[^\u2581\n]+|\n/gu) ?? [];
}

/** Segment frequencies of the corpus as the tokenizer will see it (paragraphs joined by "\n"). */
export function segmentCounts(paragraphs: readonly string[]): Map<string, number> {
  const text = SPM_SPACE + paragraphs.join('\n').replaceAll(' ', SPM_SPACE);
  const counts = new Map<string, number>();
  for (const seg of splitSegments(text)) if (seg !== '\n') counts.set(seg, (counts.get(seg) ?? 0) + 1);
  return counts;
}

const SEP = '\u0000';
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface Word {
  sym: string[];
  freq: number;
}

/** Byte-pair merges over weighted words, with incremental pair counts. Ties go to the smaller pair. */
function learnMerges(segments: ReadonlyMap<string, number>, maxMerges: number): string[] {
  const words: Word[] = [...segments.entries()]
    .sort((a, b) => cmp(a[0], b[0]))
    .map(([w, freq]) => ({ sym: [...w], freq }));
  const pairCount = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const addPairs = (wi: number, sign: number): void => {
    const { sym, freq } = words[wi] as Word;
    for (let i = 0; i + 1 < sym.length; i++) {
      const k = sym[i] + SEP + sym[i + 1];
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * freq);
      if (sign > 0) {
        let set = pairWords.get(k);
        if (set === undefined) pairWords.set(k, (set = new Set()));
        set.add(wi);
      }
    }
  };
  words.forEach((_, wi) => addPairs(wi, 1));

  const merged: string[] = [];
  for (let m = 0; m < maxMerges; m++) {
    let best: string | undefined;
    let bestN = 1; // a pair seen once is not worth a token
    for (const [k, n] of pairCount) {
      if (n > bestN || (n === bestN && best !== undefined && k < best)) {
        best = k;
        bestN = n;
      }
    }
    if (best === undefined) break;
    const [a, b] = best.split(SEP) as [string, string];
    const ab = a + b;
    const affected = [...(pairWords.get(best) ?? [])].sort((x, y) => x - y);
    for (const wi of affected) {
      const w = words[wi] as Word;
      addPairs(wi, -1);
      const out: string[] = [];
      for (let i = 0; i < w.sym.length; i++) {
        if (i + 1 < w.sym.length && w.sym[i] === a && w.sym[i + 1] === b) {
          out.push(ab);
          i++;
        } else {
          out.push(w.sym[i] as string);
        }
      }
      w.sym = out;
      addPairs(wi, 1);
    }
    pairCount.delete(best);
    pairWords.delete(best);
    merged.push(ab);
  }
  return merged;
}

export function learnVocab(paragraphs: readonly string[], maxMerges: number): Vocab {
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  const idOf = new Map<string, number>();
  const add = (text: string, score: number, type: number): number => {
    if (idOf.has(text)) return idOf.get(text) as number;
    idOf.set(text, tokens.length);
    tokens.push(text);
    scores.push(score);
    types.push(type);
    return tokens.length - 1;
  };
  const unk = add('<unk>', 0, TokenType.UNKNOWN);
  const bos = add('<s>', 0, TokenType.CONTROL);
  const eos = add('</s>', 0, TokenType.CONTROL);
  const byte0 = tokens.length;
  for (let b = 0; b < 256; b++) add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, 0, TokenType.BYTE);
  // Single characters are never the result of a merge, so their score is never consulted.
  add(SPM_SPACE, -1e6, TokenType.NORMAL);
  for (let c = 0x21; c <= 0x7e; c++) add(String.fromCharCode(c), -1e6, TokenType.NORMAL);

  const merges = learnMerges(segmentCounts(paragraphs), maxMerges);
  merges.forEach((piece, rank) => add(piece, -(rank + 1), TokenType.NORMAL));
  const imStart = add('<|im_start|>', 0, TokenType.CONTROL);
  const imEnd = add('<|im_end|>', 0, TokenType.CONTROL);
  return {
    tokens,
    scores,
    types,
    idOf,
    unk,
    bos,
    eos,
    byte0,
    newline: byte0 + 0x0a,
    imStart,
    imEnd,
    mergeCount: merges.length,
  };
}
