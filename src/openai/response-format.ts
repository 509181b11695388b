// response_format: `json_object` and `json_schema` become grammars on the engine, so the model
// can only write JSON (of that shape). Once the model has finished on its own, the text is
// checked too: it must parse, hold only finite numbers and, for a schema, validate against it.
// The grammar makes that true; the check is the guard against grammar gaps such as the
// `integer` exponent of node-llama-cpp (which the engine patches, see json-grammar.ts).
import { Value } from 'typebox/value';
import type { OutputConstraint } from '../engine/engine.js';
import { InferdError } from '../errors.js';
import type { ChatCompletionRequest } from './chat-schemas.js';
import { convertJsonSchema } from './json-schema.js';
import { badRequest } from './request-error.js';

/** Checks a finished output; throws an `internal` InferdError when it breaks the format. */
export type OutputCheck = (text: string) => void;

export interface ResolvedFormat {
  constraint?: OutputConstraint | undefined;
  check?: OutputCheck | undefined;
}

export function resolveResponseFormat(format: ChatCompletionRequest['response_format']): ResolvedFormat {
  if (!format || format.type === 'text') return {};
  if (format.type === 'json_object') return { constraint: { kind: 'json' }, check: jsonCheck(undefined) };
  const spec = format.json_schema;
  if (!spec) throw badRequest('response_format.json_schema is required when type is json_schema', 'response_format.json_schema');
  // No schema: any JSON object, as json_object.
  if (spec.schema === undefined) return { constraint: { kind: 'json' }, check: jsonCheck(undefined) };
  const converted = convertJsonSchema(spec.schema, 'response_format.json_schema.schema');
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
  return new InferdError('internal', `the model's output broke the response_format: ${why}`);
}

function allFinite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(allFinite);
  if (value !== null && typeof value === 'object') return Object.values(value).every(allFinite);
  return true;
}
