// A JS copy of llama.cpp's SPM tokenizer (llm_tokenizer_spm_session) for plain text, so the
// bigram counts are taken over exactly the token ids llama.cpp will produce at inference time.
//
// llama.cpp repeatedly merges the adjacent pair whose concatenation is a vocab token with the
// highest score (leftmost on ties), then falls back to byte tokens for symbols outside the
// vocab. No vocab token contains "▁" after its first character or a newline at all, so merges
// never cross those boundaries and each segment can be tokenized (and cached) on its own.
import { SPM_SPACE, splitSegments, type Vocab } from './vocab.js';

export class SpmTokenizer {
  private readonly cache = new Map<string, readonly number[]>();

  constructor(private readonly vocab: Vocab) {}

  /** Token ids for `text`; `addSpacePrefix` mirrors tokenizer.ggml.add_space_prefix at text start. */
  encode(text: string, addSpacePrefix = true): number[] {
    if (text.length === 0) return []; // llama.cpp adds no space prefix to empty text
    const escaped = (addSpacePrefix ? SPM_SPACE : '') + text.replaceAll(' ', SPM_SPACE);
    const out: number[] = [];
    for (const seg of splitSegments(escaped)) {
      let ids = this.cache.get(seg);
      if (ids === undefined) {
        ids = this.encodeSegment(seg);
        this.cache.set(seg, ids);
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  /** Text of token ids, as llama.cpp renders pieces ("▁" as a space, byte tokens as bytes). */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    const { tokens, byte0 } = this.vocab;
    for (const id of ids) {
      if (id >= byte0 && id < byte0 + 256) {
        bytes.push(id - byte0);
      } else if (this.vocab.types[id] === 1) {
        for (const b of Buffer.from((tokens[id] as string).replaceAll(SPM_SPACE, ' '), 'utf8')) bytes.push(b);
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }

  private encodeSegment(seg: string): number[] {
    const { idOf, scores } = this.vocab;
    let sym = [...seg];
    for (;;) {
      let bestI = -1;
      let bestScore = -Infinity;
      for (let i = 0; i + 1 < sym.length; i++) {
        const id = idOf.get((sym[i] as string) + (sym[i + 1] as string));
        if (id === undefined) continue;
        const score = scores[id] as number;
        if (score > bestScore) {
          bestScore = score;
          bestI = i;
        }
      }
      if (bestI < 0) break;
      sym = [...sym.slice(0, bestI), (sym[bestI] as string) + (sym[bestI + 1] as string), ...sym.slice(bestI + 2)];
    }
    const ids: number[] = [];
    for (const s of sym) {
      const id = idOf.get(s);
      if (id !== undefined) ids.push(id);
      else for (const b of Buffer.from(s, 'utf8')) ids.push(this.vocab.byte0 + b);
    }
    return ids;
  }
}
