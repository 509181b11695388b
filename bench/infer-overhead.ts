// What the gateway costs: the same generations run (1) in-process on raw node-llama-cpp
// (LlamaCompletion over the same rendered chat prompt), (2) through `POST /infer` as NDJSON and
// (3) as SSE, against a daemon in a child process on loopback. Same model (the default demo
// model), same prompt, same seeds, so every mode generates the very same tokens. Rounds are
// interleaved; medians are reported with the gateway/raw ratios.
//
//   npm run build && node dist/bench/infer-overhead.js        (BENCH_ROUNDS=5, BENCH_SEEDS=8)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaCompletion, LlamaLogLevel, resolveChatWrapper } from 'node-llama-cpp';
import { request } from 'undici';
import { writeDemoModel } from '../src/demo-model/index.js';
import { median, startDaemonOnFreePort, stopChild } from './lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SEEDS = Number(process.env.BENCH_SEEDS ?? 8);
const MAX_TOKENS = 256;
const PROMPT = 'Tell me how inferd streams tokens to a client.';
const SAMPLING = { temperature: 0.8, top_p: 0.95, top_k: 64 };

interface Sample {
  tokens: number;
  seconds: number;
  ttftMs: number;
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const dir = await mkdtemp(join(tmpdir(), 'inferd-bench-'));
log('building the demo model');
const { path: modelPath } = await writeDemoModel(join(dir, 'demo.gguf'), 'default');

log('loading it in-process');
// (1) raw node-llama-cpp, in this process
const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.warn });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize: 8192, sequences: 1, threads: 1 });
const wrapper = resolveChatWrapper(model);
const rendered = wrapper.generateContextState({
  chatHistory: [{ type: 'user', text: PROMPT }, { type: 'model', response: [] }],
});
const bos = model.tokens.bos;
let promptTokens = rendered.contextText.tokenize(model.tokenizer, 'trimLeadingSpace');
if (bos !== null && promptTokens[0] === bos) promptTokens = promptTokens.slice(1);
const completion = new LlamaCompletion({ contextSequence: context.getSequence() });

async function raw(seed: number): Promise<Sample> {
  const start = performance.now();
  let first = 0;
  let tokens = 0;
  await completion.generateCompletionWithMeta(promptTokens, {
    maxTokens: MAX_TOKENS,
    temperature: SAMPLING.temperature,
    topP: SAMPLING.top_p,
    topK: SAMPLING.top_k,
    seed,
    customStopTriggers: rendered.stopGenerationTriggers,
    disableContextShift: true,
    onToken: (t) => {
      tokens += t.length;
    },
    onTextChunk: () => {
      first ||= performance.now();
    },
  });
  return { tokens, seconds: (performance.now() - start) / 1000, ttftMs: first - start };
}

log('starting the daemon');
// (2) and (3): the daemon in a child process
const { child, url } = await startDaemonOnFreePort(['--model', modelPath, '--threads', '1', '--models-home', join(dir, 'models'), '--runtime-dir', join(dir, 'run')], dir);

async function gateway(seed: number, sse: boolean): Promise<Sample> {
  const start = performance.now();
  const res = await request(`${url}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: sse ? 'text/event-stream' : 'application/x-ndjson' },
    body: JSON.stringify({ id: 'b', messages: [{ role: 'user', content: PROMPT }], max_tokens: MAX_TOKENS, seed, ...SAMPLING }),
  });
  let first = 0;
  let text = '';
  for await (const chunk of res.body) {
    first ||= performance.now();
    text += (chunk as Buffer).toString('utf8');
  }
  const seconds = (performance.now() - start) / 1000;
  const done = /"usage":\{"prompt_tokens":\d+,"completion_tokens":(\d+)/.exec(text);
  if (!done) throw new Error(`no done frame in ${text.slice(-200)}`);
  return { tokens: Number(done[1]), seconds, ttftMs: first - start };
}

const modes = {
  raw: (seed: number) => raw(seed),
  ndjson: (seed: number) => gateway(seed, false),
  sse: (seed: number) => gateway(seed, true),
} as const;
type Mode = keyof typeof modes;
const results: Record<Mode, { tps: number[]; ttft: number[]; tokens: number }> = {
  raw: { tps: [], ttft: [], tokens: 0 },
  ndjson: { tps: [], ttft: [], tokens: 0 },
  sse: { tps: [], ttft: [], tokens: 0 },
};

log(`daemon ready at ${url}; measuring`);
// One warm-up pass each, then interleaved rounds.
for (const mode of Object.keys(modes) as Mode[]) await modes[mode](0);
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of Object.keys(modes) as Mode[]) {
    let tokens = 0;
    let seconds = 0;
    const ttfts: number[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const sample = await modes[mode](seed);
      tokens += sample.tokens;
      seconds += sample.seconds;
      ttfts.push(sample.ttftMs);
    }
    results[mode].tps.push(tokens / seconds);
    results[mode].ttft.push(median(ttfts));
    results[mode].tokens = tokens;
  }
  log(`round ${round + 1}/${ROUNDS} done`);
}

await stopChild(child);
await context.dispose();
await model.dispose();
await llama.dispose();
await rm(dir, { recursive: true, force: true });

const raw0 = { tps: median(results.raw.tps), ttft: median(results.raw.ttft) };
console.log(`infer-overhead: default demo model, 1 thread, ${SEEDS} seeded requests of up to ${MAX_TOKENS} tokens per round, ${ROUNDS} rounds (medians)`);
console.log(`tokens per round: raw ${results.raw.tokens}, ndjson ${results.ndjson.tokens}, sse ${results.sse.tokens} (equal: same seeds, same tokens)`);
console.log('mode      tokens/s   TTFT ms   tok/s vs raw   TTFT vs raw');
for (const mode of Object.keys(modes) as Mode[]) {
  const tps = median(results[mode].tps);
  const ttft = median(results[mode].ttft);
  console.log(
    `${mode.padEnd(8)} ${tps.toFixed(0).padStart(9)} ${ttft.toFixed(2).padStart(9)} ${(tps / raw0.tps).toFixed(3).padStart(14)} ${(ttft / raw0.ttft).toFixed(2).padStart(13)}`,
  );
}
