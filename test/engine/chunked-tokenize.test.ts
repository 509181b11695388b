// Long prompts are tokenized in pieces with event-loop turns between them, and the pieces add
// up to exactly the tokens of one call (for text with a newline or a space every 4 KB; a longer
// run without either is cut inside it, where a merge may differ).
import { readFileSync } from 'node:fs';
import { getLlama, LlamaText, resolveChatWrapper, SpecialToken, type Llama, type LlamaModel } from 'node-llama-cpp';
import t from 'tap';
import { pieceEnd, SYNC_CHARS, tokenizeInPieces, tokenizeLlamaText } from '../../src/engine/chunked-tokenize.js';
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

t.test('pieces end after a newline, else before a space, never inside a surrogate pair', async (t) => {
  t.equal(pieceEnd('aaaa\nbbbb cccc', 0, 8), 5);
  t.equal(pieceEnd('aaaa bbbb cccc', 0, 12), 9);
  t.equal(pieceEnd('aaaaaa\u{1F600}aaaa', 0, 7), 6, 'a pair is kept whole');
  t.equal(pieceEnd('short', 0, 100), 5);
});
