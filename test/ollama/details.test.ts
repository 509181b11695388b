// Ollama fields that used to be fixed: `details` from the GGUF header of the loaded model and of
// store entries, and `load_duration` as the wait for a slot. The official client reads them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Ollama } from 'ollama';
import t from 'tap';
import { checkGgufFile } from '../../src/engine/gguf-check.js';
import { parameterSize } from '../../src/ollama/gguf-details.js';
import { CLI } from '../helpers/child-daemon.js';
import { startDaemon } from '../helpers/daemon.js';
import { demoModelPath } from '../helpers/demo-model.js';

const exec = promisify(execFile);

t.test('parameter_size is formatted as Ollama prints it', async (t) => {
  t.equal(parameterSize(494_032_768), '494.03M');
  t.equal(parameterSize(7_615_616_512), '7.6B');
  t.equal(parameterSize(1_234), '1.23K');
  t.equal(parameterSize(12), '12');
});

t.test('details and load_duration through the official client', async (t) => {
  const { url, daemon, config } = await startDaemon(t, { parallel: 1 });
  const ollama = new Ollama({ host: url });
  const tiny = await checkGgufFile(await demoModelPath('tiny'));
  const loadedDetails = { format: 'gguf', family: 'llama', families: ['llama'], parameter_size: parameterSize(tiny.parameterCount), quantization_level: 'F16' };

  t.test('the loaded model in ps, show and tags', async (t) => {
    t.ok(tiny.parameterCount > 0);
    const served = (await ollama.ps()).models[0]!;
    t.match(served.details, loadedDetails, 'ps');
    const show = await ollama.show({ model: served.name });
    t.match(show.details, loadedDetails, 'show');
    t.match(show.model_info, { 'general.architecture': 'llama', 'general.parameter_count': tiny.parameterCount });
    t.match((await ollama.list()).models[0]!.details, loadedDetails, 'tags');
  });

  t.test('a store entry that is not loaded, read from its file header', async (t) => {
    const other = await demoModelPath('default');
    const summary = await checkGgufFile(other);
    t.not(summary.parameterCount, tiny.parameterCount, 'a model of another size');
    await exec(process.execPath, [CLI, 'import', other, '--name', 'demo-default', '--models-home', config.models_home], { env: { ...process.env, INFERD_CONFIG: '' } });
    const entry = (await ollama.list()).models.find((m) => m.name === 'demo-default');
    t.match(entry?.details, { format: 'gguf', family: 'llama', parameter_size: parameterSize(summary.parameterCount), quantization_level: 'F16' });
  });

  t.test('load_duration is the wait for a slot', async (t) => {
    const free = await ollama.generate({ model: 'any', prompt: 'hello', options: { num_predict: 2 } });
    t.ok(free.load_duration >= 0 && free.load_duration < free.total_duration, 'a free slot: a short wait, inside the total');
    // Hold the only slot; once the request is queued (so the daemon has received it), hold it
    // for 300 ms more.
    const held = await daemon.gate.lease(new AbortController().signal);
    const waiting = ollama.generate({ model: 'any', prompt: 'hello', options: { num_predict: 2 } });
    while (daemon.gate.admission.queued === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 300));
    held.release();
    const queued = await waiting;
    t.ok(queued.load_duration >= 300e6, `the queued request reports its wait (${queued.load_duration} ns >= 300 ms)`);
    t.ok(queued.total_duration >= queued.load_duration + queued.eval_duration, 'total covers the wait and the generation');
  });
});
