// Embedding inputs checked, and vectors in the requested encoding. `base64` is the bytes of
// little-endian float32 values, which is what the official SDKs ask for by default and decode.
import type { Engine } from '../engine/engine.js';
import type { EmbeddingList, EmbeddingRequest } from './embedding-schemas.js';
import { badRequest } from '../inference/request-error.js';

export function embeddingInputs(body: EmbeddingRequest, engine: Engine): string[] {
  const inputs = typeof body.input === 'string' ? [body.input] : body.input;
  const empty = inputs.findIndex((input) => input === '');
  if (empty >= 0) throw badRequest('input must not be empty', typeof body.input === 'string' ? 'input' : `input.${empty}`);
  const size = engine.info.embeddingSize;
  if (body.dimensions !== undefined && body.dimensions !== null && body.dimensions !== size) {
    throw badRequest(`dimensions must be ${size}: the loaded model's embeddings cannot be shortened`, 'dimensions');
  }
  return inputs;
}

export function embeddingList(vectors: readonly number[][], format: 'float' | 'base64', model: string, promptTokens: number): EmbeddingList {
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: format === 'base64' ? float32Base64(vector) : vector })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

export function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}
