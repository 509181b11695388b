// Long prompts are tokenized in pieces with event-loop turns between them, and the pieces add
// up to exactly the tokens of one call (for text with a newline or a space every 2 KB; a longer
// run without either is cut inside it, where a merge may differ).
import { readFileSync } from 'node:fs';
import { getLlama, LlamaText, resolveChatWrapper, SpecialToken, type Llama, type LlamaModel } from 'node-llama-cpp';
import t from 'tap';
import { PartTokenCache, pieceEnd, SYNC_CHARS, tokenizeInPieces, tokenizeLlamaText } from '../../src/engine/chunked-tokenize.js';
import { demoModelPath } from '../helpers/demo-model.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

t.test('chunked tokenization equals one call', async (t) => {
  const llama: Llama = await getLlama({ build: 'never', gpu: false, maxThreads: 1 });
  const model: LlamaModel = await llama.loadModel({ modelPath: await demoModelPath('tiny') });
  t.teardown(async () => {
    await model.dispose();
    await llama.dispose();
  });
  const texts = {
    readme: readme.repeat(3),
    'one long line': readme.replace(/\s+/g, ' ').repeat(2),
    'runs of blank lines': 'para one\n\n\n  indented\n'.repeat(4000),
  };
  for (const [name, text] of Object.entries(texts)) {
    t.ok(text.length > SYNC_CHARS * 2, `${name} is long enough to be split`);
    for (const options of [undefined, 'trimLeadingSpace'] as const) {
      const whole = model.tokenize(text, false, options);
      t.same(await tokenizeInPieces(model.tokenizer, text, options), whole, `${name} (${options ?? 'default'})`);
    }
  }

  const wrapper = resolveChatWrapper(model);
  const history = [
    { type: 'system' as const, text: 'Be terse.' },
    { type: 'user' as const, text: texts.readme },
    { type: 'model' as const, response: [] },
  ];
  const contextText = wrapper.generateContextState({ chatHistory: history }).contextText;
  t.same(await tokenizeLlamaText(contextText, model.tokenizer, 'trimLeadingSpace'), contextText.tokenize(model.tokenizer, 'trimLeadingSpace'), 'a chat prompt');
  const mixed = LlamaText([texts['one long line'], new SpecialToken('EOS'), texts.readme]);
  t.same(await tokenizeLlamaText(mixed, model.tokenizer), mixed.tokenize(model.tokenizer), 'text around a special token');
  const withBos = LlamaText([new SpecialToken('BOS'), texts.readme, new SpecialToken('EOS'), 'tail']);
  const bos = model.tokens.bos!;
  t.same(await tokenizeLlamaText(withBos, model.tokenizer, undefined, bos), withBos.tokenize(model.tokenizer).slice(1), 'a leading BOS is dropped');
  t.same(await tokenizeLlamaText(mixed, model.tokenizer, undefined, bos), mixed.tokenize(model.tokenizer), 'nothing is dropped without a leading BOS');

  let turns = 0;
  const timer = setInterval(() => turns++, 0);
  await tokenizeInPieces(model.tokenizer, texts.readme);
  clearInterval(timer);
  t.ok(turns > 0, `timers ran while a ${texts.readme.length}-character text was tokenized (${turns} turns)`);
});

t.test('a conversation is tokenized once per turn: earlier turns come from the part cache', async (t) => {
  const llama: Llama = await getLlama({ build: 'never', gpu: false, maxThreads: 1 });
  const model: LlamaModel = await llama.loadModel({ modelPath: await demoModelPath('tiny') });
  t.teardown(async () => {
    await model.dispose();
    await llama.dispose();
  });
  const calls: string[] = [];
  const counting = Object.assign((text: string, special?: boolean | 'builtin', options?: 'trimLeadingSpace') => {
    calls.push(text);
    return model.tokenizer(text, special as boolean, options);
  }, model.tokenizer) as typeof model.tokenizer;
  const cache = new PartTokenCache(64 * 1024);
  const cached = cache.wrap(counting);
  const wrapper = resolveChatWrapper(model);
  const history: Array<{ type: 'system'; text: string } | { type: 'user'; text: string } | { type: 'model'; response: string[] }> = [
    { type: 'system', text: 'Be terse. ' + readme.slice(0, 300) },
  ];
  const render = () => wrapper.generateContextState({ chatHistory: [...history, { type: 'model', response: [] }] }).contextText;
  for (let turn = 0; turn < 6; turn++) {
    history.push({ type: 'user', text: readme.slice(1000 + turn * 500, 1500 + turn * 500) });
    const text = render();
    calls.length = 0;
    const hitsBefore = cache.hits;
    t.same(text.tokenize(cached, 'trimLeadingSpace'), text.tokenize(model.tokenizer, 'trimLeadingSpace'), `turn ${turn}: the same tokens as without the cache`);
    const long = calls.filter((part) => part.length >= cache.minChars);
    if (turn > 0) {
      t.ok(long.length <= 2, `turn ${turn}: only the new turn's parts are tokenized (${long.length} long parts)`);
      t.ok(cache.hits > hitsBefore, `turn ${turn}: earlier turns come from the cache`);
    }
    history.push({ type: 'model', response: [readme.slice(4000 + turn * 300, 4300 + turn * 300)] });
  }
  t.equal(await tokenizeLlamaText(render(), cached, 'trimLeadingSpace').then((tokens) => tokens.length), render().tokenize(model.tokenizer, 'trimLeadingSpace').length);

  const small = new PartTokenCache(2000);
  const tokenizeSmall = small.wrap(model.tokenizer);
  for (let i = 0; i < 20; i++) tokenizeSmall(readme.slice(i * 300, i * 300 + 300), false);
  t.ok(small.size <= 7, `the cache keeps at most maxChars of text (${small.size} parts of 300)`);
  t.equal(small.misses, 20);
});

t.test('pieces end after a newline, else before a space, never inside a surrogate pair', async (t) => {
  t.equal(pieceEnd('aaaa\nbbbb cccc', 0, 8), 5);
  t.equal(pieceEnd('aaaa bbbb cccc', 0, 12), 9);
  t.equal(pieceEnd('aaaaaa\u{1F600}aaaa', 0, 7), 6, 'a pair is kept whole');
  t.equal(pieceEnd('short', 0, 100), 5);
});
