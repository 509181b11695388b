// JSON output for every API family (OpenAI `response_format`, Ollama `format`): JSON, or JSON
// of a schema, becomes a grammar on the engine, so the model can only write JSON (of that shape). Once the model has finished on its own, the text is
// checked too: it must parse, hold only finite numbers and, for a schema, validate against it.
// The grammar makes that true; the check is the guard against grammar gaps such as the
// `integer` exponent of node-llama-cpp (which the engine patches, see json-grammar.ts).
import { Value } from 'typebox/value';
import type { OutputConstraint } from '../engine/engine.js';
import { InferdError } from '../errors.js';
import { convertJsonSchema } from './json-schema.js';

/** Checks a finished output; throws an `internal` InferdError when it breaks the format. */
export type OutputCheck = (text: string) => void;

export interface ResolvedFormat {
  constraint?: OutputConstraint | undefined;
  check?: OutputCheck | undefined;
}

/**
 * Any JSON object (`schema` undefined), or JSON matching `schema`. `param` names the schema's
 * place in the request, for the 400 when the schema cannot be turned into a grammar.
 */
export function jsonOutput(schema: Record<string, unknown> | undefined, param: string): ResolvedFormat {
  if (schema === undefined) return { constraint: { kind: 'json' }, check: jsonCheck(undefined) };
  const converted = convertJsonSchema(schema, param);
  return { constraint: { kind: 'json_schema', schema: converted.grammar }, check: jsonCheck(converted.check) };
}

function jsonCheck(schema: Record<string, unknown> | undefined): OutputCheck {
  return (text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw violation(`it is not JSON (${(err as Error).message})`);
    }
    if (!allFinite(value)) throw violation('it has a number too large for JSON');
    if (schema === undefined) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw violation('it is not a JSON object');
      return;
    }
    if (!Value.Check(schema, value)) {
      const first = Value.Errors(schema, value)[0];
      throw violation(`it does not match the schema (${first ? `${first.instancePath || '/'} ${first.message}` : 'invalid'})`);
    }
  };
}

function violation(why: string): InferdError {
  return new InferdError('internal', `the model's output broke the requested format: ${why}`);
}

function allFinite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(allFinite);
  if (value !== null && typeof value === 'object') return Object.values(value).every(allFinite);
  return true;
}
