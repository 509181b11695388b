// Fault injection only: a real engine whose generation fails after a given number of text
// pieces, a failure the demo model cannot produce on demand (DESIGN.md rule 1).
import type { Engine, GenerateRequest, GenerateResult } from '../../src/engine/engine.js';
import { InferdError } from '../../src/errors.js';
import { createModelSource, type ModelSource } from '../../src/lifecycle/model-source.js';
import type { InferdConfig } from '../../src/config/schema.js';
import { pino } from 'pino';

export function faultySource(config: InferdConfig, failAfterPieces: number): ModelSource {
  const real = createModelSource(config, pino({ level: 'silent' }));
  return {
    acquire: real.acquire,
    close: real.close,
    async load(model, onPhase, signal) {
      const engine = await real.load(model, onPhase, signal);
      return failing(engine, failAfterPieces);
    },
  };
}

function failing(engine: Engine, failAfterPieces: number): Engine {
  return {
    info: engine.info,
    capabilities: engine.capabilities,
    countPromptTokens: (prompt) => engine.countPromptTokens(prompt),
    embed: (inputs, signal) => engine.embed(inputs, signal),
    close: () => engine.close(),
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      let pieces = 0;
      const ac = new AbortController();
      const signal = request.signal ? AbortSignal.any([request.signal, ac.signal]) : ac.signal;
      await engine.generate({
        ...request,
        signal,
        onText: (text) => {
          if (pieces++ < failAfterPieces) request.onText?.(text);
          else ac.abort();
        },
      });
      throw new InferdError('backend_unavailable', 'the backend failed mid-stream (injected)');
    },
  };
}
