// POST /api/pull (Ollama-compatible, admin scope): brings a GGUF into the model store with the
// store's downloader (resume, retries, SHA-256 verification, quarantine) and streams its progress
// as Ollama's NDJSON lines. A URL without a digest is hashed on arrival and must pass the GGUF
// check before it becomes a store entry. A client that hangs up stops its wait; a download other callers share
// goes on for them.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toInferdError } from '../../src/errors.js';
import { clientSignal } from '../../src/http/client-signal.js';
import { NdjsonAnswer } from '../../src/ollama/answer.js';
import { OLLAMA_ERROR_RESPONSES } from '../../src/ollama/error-responses.js';
import { OllamaPullRequestSchema, type OllamaProgress } from '../../src/ollama/model-schemas.js';
import { progressLines, resolvePull } from '../../src/ollama/pull.js';
import { downloadPolicy, pullModel, pullUrl, readCaFile, type PullOptions } from '../../src/download/index.js';
import { checkModelFile } from '../../src/lifecycle/check-model-file.js';
import { ModelStore, storeOptions } from '../../src/store/index.js';

/** Progress every MiB or quarter second: a client's bar, not a log. */
const CADENCE = { everyBytes: 1024 * 1024, everyMs: 250 };

const ollamaPullRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/pull',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['ollama'],
        summary: 'Pull a model into the store (Ollama-compatible)',
        description:
          '`model` is an https: URL of a GGUF file (its SHA-256 in `sha256` or as `#sha256=<hex>` on the URL; the store name in `name` ' +
          'or from the file name), a store entry (re-hashed, fetched again when bad) or the configured model. NDJSON progress by default: ' +
          '`pulling manifest`, `pulling <digest>` with `total` and `completed`, `verifying sha256 digest`, `success`. ' +
          'A URL without a SHA-256 is downloaded every time (`pulling <name>` with `total` and `completed`), hashed on arrival and ' +
          'must pass the GGUF check (otherwise it is quarantined and the pull fails with `model_invalid`); the store entry records the ' +
          'computed digest, which the `success` line carries as `digest`. ' +
          'It does not load the model: `POST /admin/reload` does.',
        body: OllamaPullRequestSchema,
        response: {
          200: {
            description: 'Progress',
            content: {
              'application/json': { schema: Type.Ref('OllamaProgress') },
              'application/x-ndjson': { schema: Type.String({ description: 'OllamaProgress lines; the last is `success` or an error' }) },
            },
          },
          ...OLLAMA_ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const { config } = app.inferd;
      const store = await ModelStore.open(config.models_home, storeOptions(config));
      const target = await resolvePull(request.body, config, store);
      const caPem = config.ca_file ? await readCaFile(config.ca_file) : undefined;
      const ndjson = request.body.stream === false ? null : new NdjsonAnswer(app, reply, config.write_timeout_ms);
      const options: PullOptions = {
        ...downloadPolicy(config),
        caPem,
        signal: clientSignal(reply),
        progress: CADENCE,
        onEvent: (event) => progressLines(event, target).forEach((line) => ndjson?.line(line)),
      };
      let done: OllamaProgress;
      try {
        if (target.verifyCached === null) {
          const result = await pullUrl(store, target.spec, { ...options, check: checkModelFile });
          // The digest was not known up front: say which one the store entry now has.
          done = { status: 'success', digest: `sha256:${result.sha256}` };
        } else {
          await pullModel(store, target.spec, {
            ...options,
            verifyCached: target.verifyCached,
            // Asked for explicitly, as `inferd pull`: try even a URL whose last download failed its checksum.
            retryKnownMismatch: true,
          });
          done = { status: 'success' };
        }
      } catch (err) {
        if (!ndjson?.started) throw err;
        await ndjson.fail(toInferdError(err));
        return reply;
      }
      if (!ndjson) return done;
      await ndjson.end(done);
      return reply;
    },
  );
};

export default ollamaPullRoutes;
