// Which model answers an OpenAI request. inferd serves one model: by default any `model` name
// is answered by it (clients written for a cloud service send names we cannot know), and every
// response names the model that really answered. With `strict_model`, another name is a 404.
import type { Engine } from '../engine/engine.js';
import { InferdError } from '../errors.js';

/** The id of the loaded model, as /v1/models lists it. */
export function modelId(engine: Engine): string {
  return engine.info.modelName;
}

/** The id to put in the response; throws model_not_found for another name under `strict_model`. */
export function servedModel(engine: Engine, requested: string | null | undefined, strict: boolean): string {
  const id = modelId(engine);
  if (strict && requested !== undefined && requested !== null && requested !== id) {
    throw new InferdError('model_not_found', `The model \`${requested}\` does not exist: this daemon serves \`${id}\``, { detail: { param: 'model' } });
  }
  return id;
}
