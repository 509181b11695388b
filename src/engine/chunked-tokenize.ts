// Tokenizing is synchronous native work (about 0.3 ms per KB here): a 1 MB prompt in one call
// would hold the event loop for a third of a second. Long text is therefore tokenized in pieces
// of a few KB with a turn of the event loop between them. Pieces are cut where the tokenizers we
// know never merge across (after a newline, else before a space), so the tokens equal those of a
// single call; test/engine/chunked-tokenize.test.ts checks that on the demo model.
import type { LlamaText, Token, Tokenizer } from 'node-llama-cpp';

/** Text up to this many characters is tokenized in one call (a few ms at most). */
export const SYNC_CHARS = 16 * 1024;
/** Target size of one piece: about 1.5 ms of tokenizing here, so a turn stays far below 20 ms. */
export const PIECE_CHARS = 4 * 1024;
/** Tokens copied per event-loop turn when pieces are joined (well under a millisecond). */
export const COPY_TOKENS = 16 * 1024;

type TokenizeOptions = 'trimLeadingSpace' | undefined;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Where to end the piece that should end near `target`: never inside a word or a surrogate pair. */
export function pieceEnd(text: string, start: number, target: number): number {
  if (target >= text.length) return text.length;
  const floor = start + Math.floor((target - start) / 2);
  for (let i = target; i > floor; i--) {
    if (text[i - 1] === '\n' && !/\s/.test(text[i] ?? '')) return i;
  }
  for (let i = target; i > floor; i--) {
    if (text[i] === ' ' && !/\s/.test(text[i - 1] ?? ' ') && !/\s/.test(text[i + 1] ?? ' ')) return i;
  }
  const code = text.charCodeAt(target - 1);
  return code >= 0xd800 && code <= 0xdbff ? target - 1 : target;
}

/** The tokens of `text` as the tokens of its pieces, in order, one piece per event-loop turn. */
async function tokenizePieces(tokenizer: Tokenizer, text: string, options: TokenizeOptions, into: Token[][]): Promise<void> {
  let start = 0;
  while (start < text.length) {
    const end = pieceEnd(text, start, start + PIECE_CHARS);
    // Only the first piece may get the tokenizer's leading space; the others continue the text.
    into.push(tokenizer(text.slice(start, end), false, start === 0 ? options : 'trimLeadingSpace'));
    start = end;
    if (start < text.length) await nextTurn();
  }
}

/**
 * The pieces as one array, without the first token when `dropFirst`. The array is sized once
 * (growing it by pushes copies it again at every step) and filled a bounded number of tokens
 * per turn. The copy runs in a plain function: V8 optimizes a hot loop there, not inside an
 * async function that awaits in it.
 */
async function joinPieces(pieces: readonly Token[][], dropFirst: boolean): Promise<Token[]> {
  let total = dropFirst ? -1 : 0;
  for (const piece of pieces) total += piece.length;
  const tokens: Token[] = new Array<Token>(Math.max(0, total));
  let at = 0;
  let since = 0;
  let skip = dropFirst;
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    at = copyInto(tokens, at, piece, skip ? 1 : 0);
    skip = false;
    since += piece.length;
    if (since >= COPY_TOKENS && at < tokens.length) {
      since = 0;
      await nextTurn();
    }
  }
  return tokens;
}

function copyInto(target: Token[], at: number, source: readonly Token[], from: number): number {
  for (let i = from; i < source.length; i++) target[at++] = source[i]!;
  return at;
}

/** `tokenizer(text, false, options)`, yielding to the event loop between pieces. */
export async function tokenizeInPieces(tokenizer: Tokenizer, text: string, options?: TokenizeOptions): Promise<Token[]> {
  if (text.length <= SYNC_CHARS) return tokenizer(text, false, options);
  const pieces: Token[][] = [];
  await tokenizePieces(tokenizer, text, options, pieces);
  return joinPieces(pieces, false);
}

/**
 * `text.tokenize(tokenizer, options)` without long blocking. node-llama-cpp's own LlamaText
 * logic decides how the parts are split and which options each gets, and it pushes the result
 * of every tokenizer call, in call order, into its answer. We run it once with a tokenizer that
 * records those results (long plain-text parts are left for later), tokenize the long parts in
 * pieces, and join all pieces once, a bounded number of tokens per turn: joining 500k tokens,
 * or replaying the text to look the parts up by their 1 MB strings, took 130-200 ms of one
 * task. `dropLeading`, when it is the first token, is left out (the BOS LlamaCompletion adds
 * itself), which saves another full copy.
 */
export async function tokenizeLlamaText(text: LlamaText, tokenizer: Tokenizer, options?: TokenizeOptions, dropLeading?: Token | null): Promise<Token[]> {
  if (!text.values.some((value) => typeof value === 'string' && value.length > SYNC_CHARS)) {
    const tokens = text.tokenize(tokenizer, options);
    return dropLeading != null && tokens[0] === dropLeading ? tokens.slice(1) : tokens;
  }
  const parts: Array<Token[] | { text: string; options: TokenizeOptions }> = [];
  const recorder = like(tokenizer, (part, special, partOptions) => {
    if (special === false && part.length > SYNC_CHARS) {
      parts.push({ text: part, options: partOptions });
      return [];
    }
    const tokens = (tokenizer as (text: string, special?: boolean | 'builtin', options?: TokenizeOptions) => Token[])(part, special, partOptions);
    parts.push(tokens);
    return tokens;
  });
  text.tokenize(recorder, options);
  const pieces: Token[][] = [];
  for (const part of parts) {
    if (Array.isArray(part)) pieces.push(part);
    else await tokenizePieces(tokenizer, part.text, part.options, pieces);
  }
  const drop = dropLeading != null && pieces.find((piece) => piece.length > 0)?.[0] === dropLeading;
  return joinPieces(pieces, drop);
}

/**
 * The tokens of recent prompt parts. A chat prompt is tokenized part by part (the text between
 * the template's special tokens: one message each), and a conversation sends its earlier turns
 * again with every request. With a real BPE vocabulary that is ~3.5 ms per 1,000 tokens of the
 * event loop on every request (a 16 KB conversation: 18 ms), so parts seen recently are
 * answered from here; only the new turn is tokenized. Bounded by the characters it keeps.
 */
export class PartTokenCache {
  readonly #entries = new Map<string, Token[]>();
  #chars = 0;
  hits = 0;
  misses = 0;

  /** `minChars`: shorter parts cost less to tokenize than to look up. */
  constructor(
    readonly maxChars = 4 * 1024 * 1024,
    readonly minChars = 64,
  ) {}

  /** `tokenizer`, answering repeated parts from the cache. The arrays it returns are shared: read only. */
  wrap(tokenizer: Tokenizer): Tokenizer {
    const call = tokenizer as (text: string, special?: boolean | 'builtin', options?: TokenizeOptions) => Token[];
    return like(tokenizer, (text, special, options) => {
      if (text.length < this.minChars || text.length > SYNC_CHARS) return undefined;
      const key = `${String(special)}|${options ?? ''}|${text}`;
      const found = this.#entries.get(key);
      if (found) {
        this.hits++;
        // Map order is insertion order: re-inserting keeps the oldest entry first for eviction.
        this.#entries.delete(key);
        this.#entries.set(key, found);
        return found;
      }
      this.misses++;
      const tokens = call(text, special, options);
      this.#entries.set(key, tokens);
      this.#chars += key.length;
      for (const oldest of this.#entries.keys()) {
        if (this.#chars <= this.maxChars) break;
        this.#entries.delete(oldest);
        this.#chars -= oldest.length;
      }
      return tokens;
    });
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** A Tokenizer that answers from `answer` when it has an answer and asks `tokenizer` otherwise. */
function like(
  tokenizer: Tokenizer,
  answer: (text: string, special: boolean | 'builtin' | undefined, options: TokenizeOptions) => Token[] | undefined,
): Tokenizer {
  const tokenize = (text: string, special?: boolean | 'builtin', options?: TokenizeOptions): Token[] =>
    answer(text, special, options) ?? (tokenizer as (text: string, special?: boolean | 'builtin', options?: TokenizeOptions) => Token[])(text, special, options);
  return Object.assign(tokenize, {
    detokenize: tokenizer.detokenize,
    isSpecialToken: tokenizer.isSpecialToken,
    isEogToken: tokenizer.isEogToken,
  }) as Tokenizer;
}
