// Token-bigram statistics of the corpus: P(next | current) for every token seen as a context.
//
// Smoothing: interpolate the counts with a backoff distribution, weight
// lambda = n / (n + k * distinct) (Witten-Bell style; k = `backoff`). The backoff is the unigram
// distribution split by "starts a word" vs "continues a word", mixed by how often the context
// was followed by a word start: a rare context then still gets a plausible *kind* of token next,
// which keeps made-up words rare.
//
// Stopping: `</s>` never comes from the counts or the backoff. It is mixed in per context as the
// share of that context's occurrences that end a sentence (text ending in . ! or ? followed by a
// space or a newline), times the stop probability for that kind of ending. After the newline,
// which is the last token of every chat prompt, the stop probability is a separate small number.
// That newline row also only counts paragraphs whose first word is a single token, so a reply
// opens with a whole word rather than with letters that drift into a made-up one.
import { SPM_SPACE, type Vocab } from './vocab.js';
import type { SpmTokenizer } from './spm-tokenizer.js';

export interface BigramOptions {
  /** k in lambda = n / (n + k * distinct). Smaller trusts the counts more. */
  backoff: number;
  /** P(</s>) right after a sentence that continues in the same paragraph. */
  eosAfterSentence: number;
  /** P(</s>) right after the last sentence of a paragraph. */
  eosAfterParagraph: number;
  /** P(</s>) right after a newline (the first token of a chat reply). */
  eosAfterNewline: number;
}

export interface BigramStats {
  /** Token ids that have their own row, ascending. */
  readonly contexts: readonly number[];
  /** The next-token distribution after `ctx`; `undefined` gives the one for unseen contexts. */
  row(ctx: number | undefined): Float64Array;
  readonly corpusTokens: number;
}

const SENTENCE_END = /[.!?]$/;

export function estimateBigram(
  vocab: Vocab,
  tokenizer: SpmTokenizer,
  paragraphs: readonly string[],
  opts: BigramOptions,
): BigramStats {
  const n = vocab.tokens.length;
  const ids = tokenizer.encode(paragraphs.join('\n'), true);
  const startsWord = (id: number): boolean => id === vocab.newline || (vocab.tokens[id] as string).startsWith(SPM_SPACE);

  const counts = new Map<number, Map<number, number>>();
  const bump = (a: number, b: number): void => {
    let m = counts.get(a);
    if (m === undefined) counts.set(a, (m = new Map()));
    m.set(b, (m.get(b) ?? 0) + 1);
  };
  // Sum over a context's occurrences of the stop probability each one earns.
  const eosMass = new Map<number, number>();
  for (let i = 0; i + 1 < ids.length; i++) {
    const cur = ids[i] as number;
    const next = ids[i + 1] as number;
    // A reply's first token is the most visible one: only let whole words open a paragraph.
    const after = ids[i + 2];
    if (cur === vocab.newline && after !== undefined && !startsWord(after)) continue;
    bump(cur, next);
    if (SENTENCE_END.test(vocab.tokens[cur] as string) && startsWord(next)) {
      const p = next === vocab.newline ? opts.eosAfterParagraph : opts.eosAfterSentence;
      eosMass.set(cur, (eosMass.get(cur) ?? 0) + p);
    }
  }
  for (const p of paragraphs) bump(vocab.bos, tokenizer.encode(p, true)[0] as number);

  // Backoff distributions: unigram of word-start tokens and of word-continuing tokens.
  const uniStart = new Float64Array(n);
  const uniCont = new Float64Array(n);
  for (const m of counts.values()) {
    for (const [b, c] of m) addAt(startsWord(b) ? uniStart : uniCont, b, c);
  }
  normalise(uniStart);
  normalise(uniCont);

  const row = (ctx: number | undefined): Float64Array => {
    const out = new Float64Array(n);
    const m = ctx === undefined ? undefined : counts.get(ctx);
    if (m === undefined) {
      // Unseen context: most likely a word start.
      for (let v = 0; v < n; v++) out[v] = 0.8 * (uniStart[v] as number) + 0.2 * (uniCont[v] as number);
      return out;
    }
    let total = 0;
    let startN = 0;
    for (const [b, c] of m) {
      total += c;
      if (startsWord(b)) startN += c;
    }
    const lambda = total / (total + opts.backoff * m.size);
    const pStart = (startN + 0.5) / (total + 1);
    for (let v = 0; v < n; v++) {
      out[v] = (1 - lambda) * (pStart * (uniStart[v] as number) + (1 - pStart) * (uniCont[v] as number));
    }
    for (const [b, c] of m) addAt(out, b, (lambda * c) / total);
    const eos =
      ctx === vocab.newline ? opts.eosAfterNewline : Math.min(0.95, (eosMass.get(ctx as number) ?? 0) / total);
    if (eos > 0) {
      for (let v = 0; v < n; v++) out[v] = (out[v] as number) * (1 - eos);
      addAt(out, vocab.eos, eos);
    }
    return out;
  };

  return {
    contexts: [...counts.keys()].sort((a, b) => a - b),
    row,
    corpusTokens: ids.length,
  };
}

function addAt(a: Float64Array, i: number, x: number): void {
  a[i] = (a[i] as number) + x;
}

function sum(a: Float64Array): number {
  let s = 0;
  for (const x of a) s += x;
  return s;
}

function normalise(a: Float64Array): void {
  const s = sum(a);
  if (s > 0) for (let i = 0; i < a.length; i++) a[i] = (a[i] as number) / s;
}
