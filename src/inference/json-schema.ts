// A client's JSON schema (response_format json_schema, tool parameters) as node-llama-cpp's
// grammar subset, plus an equivalent plain JSON Schema to check the output with. The grammar
// can enforce types, properties, enums, consts, unions, $defs/$ref, array and string lengths
// and the date/time formats; a schema that narrows values any other way (pattern, minimum,
// multipleOf, …) is refused with a 400 naming the keyword, because the grammar would silently
// let such values through. Unknown keywords and annotations are ignored.
import { InferdError } from '../errors.js';

type Json = Record<string, unknown>;

export interface ConvertedSchema {
  /** For node-llama-cpp's JSON-schema grammar (`oneOf` for unions, `$defs` refs, every property generated). */
  grammar: Json;
  /** The same constraints as plain JSON Schema (`anyOf`, formats left to the grammar), for checking output. */
  check: Json;
}

interface Pair {
  g: Json;
  c: Json;
}

/** Keywords that narrow values in ways a grammar cannot (or node-llama-cpp does not) enforce. */
const UNSUPPORTED = [
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'patternProperties',
  'propertyNames',
  'dependentRequired',
  'dependentSchemas',
  'dependencies',
  'unevaluatedProperties',
  'uniqueItems',
  'contains',
  'minContains',
  'maxContains',
  'unevaluatedItems',
  'additionalItems',
  'not',
  'if',
  'then',
  'else',
];
const TYPES = ['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'];
const FORMATS = ['date', 'time', 'date-time'];
const MAX_DEPTH = 64;
const DEF_REF = /^#\/(?:\$defs|definitions)\/([^/]+)$/;
const VALUE_KEYWORDS = ['properties', 'additionalProperties', 'required', 'items', 'prefixItems', 'minItems', 'maxItems', 'minLength', 'maxLength', 'format', 'minProperties', 'maxProperties'];

/** Any JSON value: node-llama-cpp has no "any" schema, but these alternatives cover all of JSON. */
const ANY: Pair = {
  g: { oneOf: [{ type: ['string', 'number', 'boolean', 'null'] }, { type: 'object', additionalProperties: true }, { type: 'array' }] },
  c: {},
};

/** Converts `schema`; `param` names the request field in error messages (`tools.0.function.parameters`). */
export function convertJsonSchema(schema: unknown, param: string): ConvertedSchema {
  return new Converter(param).root(schema);
}

class Converter {
  readonly #param: string;
  readonly #defs = new Set<string>();

  constructor(param: string) {
    this.#param = param;
  }

  root(schema: unknown): ConvertedSchema {
    const node = this.#object(schema, '');
    const rawDefs = { ...asObject(node['definitions']), ...asObject(node['$defs']) };
    for (const name of Object.keys(rawDefs)) this.#defs.add(name);
    const { $defs: _a, definitions: _b, ...rest } = node;
    const top = this.#node(rest, '', 0);
    const names = Object.keys(rawDefs);
    if (names.length === 0) return { grammar: top.g, check: top.c };
    const defs = names.map((name) => [name, this.#node(rawDefs[name], `/$defs/${name}`, 1)] as const);
    return {
      grammar: { ...top.g, $defs: Object.fromEntries(defs.map(([n, p]) => [n, p.g])) },
      check: { ...top.c, $defs: Object.fromEntries(defs.map(([n, p]) => [n, p.c])) },
    };
  }

  #fail(path: string, message: string): never {
    throw new InferdError('invalid_request', `invalid request: ${this.#param}${path.replace(/\//g, '.')}: ${message}`, {
      detail: { param: this.#param },
    });
  }

  #object(value: unknown, path: string): Json {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.#fail(path, 'must be a JSON schema object');
    return value as Json;
  }

  #node(value: unknown, path: string, depth: number): Pair {
    if (value === true) return ANY;
    if (value === false) this.#fail(path, 'a `false` schema allows no value at all');
    if (depth > MAX_DEPTH) this.#fail(path, `schemas nested deeper than ${MAX_DEPTH} levels are not supported`);
    const node = this.#object(value, path);
    for (const keyword of UNSUPPORTED) {
      if (keyword in node) this.#fail(path, `\`${keyword}\` cannot be enforced by the output grammar; remove it`);
    }
    if ('$defs' in node || 'definitions' in node) this.#fail(path, 'put `$defs` at the top level of the schema');
    if ('$ref' in node) return this.#ref(node, path);
    if ('allOf' in node) return this.#allOf(node, path, depth);
    if ('anyOf' in node || 'oneOf' in node) return this.#union(node, path, depth);
    if ('const' in node || 'enum' in node) return this.#literal(node, path);
    const type = node['type'];
    if (Array.isArray(type)) {
      const types = [...new Set(type.map((t) => this.#typeName(t, path)))];
      if (types.length === 0) this.#fail(path, '`type` must not be empty');
      if (types.length === 1) return this.#typed(node, types[0]!, path, depth);
      const alternatives = types.map((t) => this.#typed(node, t, path, depth));
      return { g: { oneOf: alternatives.map((a) => a.g) }, c: { anyOf: alternatives.map((a) => a.c) } };
    }
    if (type !== undefined) return this.#typed(node, this.#typeName(type, path), path, depth);
    if ('properties' in node || 'additionalProperties' in node || 'required' in node) return this.#typed(node, 'object', path, depth);
    if ('items' in node || 'prefixItems' in node) return this.#typed(node, 'array', path, depth);
    if (VALUE_KEYWORDS.some((k) => k in node)) this.#fail(path, 'give a `type` with these keywords');
    return ANY;
  }

  #typeName(type: unknown, path: string): string {
    if (typeof type !== 'string' || !TYPES.includes(type)) this.#fail(path, `\`type\` must be one of ${TYPES.join(', ')}`);
    return type;
  }

  #ref(node: Json, path: string): Pair {
    const ref = node['$ref'];
    const match = typeof ref === 'string' ? DEF_REF.exec(ref) : null;
    if (!match) this.#fail(path, '`$ref` must point into the top-level `$defs` (`#/$defs/Name`)');
    const name = match[1]!;
    if (!this.#defs.has(name)) this.#fail(path, `\`$ref\` points to a missing definition \`${name}\``);
    return { g: { $ref: `#/$defs/${name}` }, c: { $ref: `#/$defs/${name}` } };
  }

  #allOf(node: Json, path: string, depth: number): Pair {
    const all = node['allOf'];
    const others = Object.keys(node).filter((k) => k !== 'allOf' && k !== 'title' && k !== 'description');
    // `allOf: [one]` is how some generators (Pydantic) attach a description to a reference.
    if (!Array.isArray(all) || all.length !== 1 || others.length > 0) this.#fail(path, '`allOf` is supported only with a single schema');
    return this.#node(all[0], `${path}/allOf/0`, depth + 1);
  }

  #union(node: Json, path: string, depth: number): Pair {
    const key = 'anyOf' in node ? 'anyOf' : 'oneOf';
    const list = node[key];
    if ('anyOf' in node && 'oneOf' in node) this.#fail(path, '`anyOf` and `oneOf` cannot be combined');
    if (!Array.isArray(list) || list.length === 0) this.#fail(path, `\`${key}\` must be a non-empty array`);
    if (node['type'] !== undefined || VALUE_KEYWORDS.some((k) => k in node)) this.#fail(path, `put \`type\` and other keywords inside the \`${key}\` alternatives`);
    const alternatives = list.map((item, i) => this.#node(item, `${path}/${key}/${i}`, depth + 1));
    return { g: { oneOf: alternatives.map((a) => a.g) }, c: { anyOf: alternatives.map((a) => a.c) } };
  }

  #literal(node: Json, path: string): Pair {
    const isPrimitive = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
    if ('const' in node) {
      if (!isPrimitive(node['const'])) this.#fail(path, '`const` must be a string, number, boolean or null');
      return { g: { const: node['const'] }, c: { const: node['const'] } };
    }
    const values = node['enum'];
    if (!Array.isArray(values) || values.length === 0 || !values.every(isPrimitive)) {
      this.#fail(path, '`enum` must be a non-empty array of strings, numbers, booleans or null');
    }
    return { g: { enum: values }, c: { enum: values } };
  }

  #typed(node: Json, type: string, path: string, depth: number): Pair {
    switch (type) {
      case 'string':
        return this.#string(node, path);
      case 'object':
        return this.#objectType(node, path, depth);
      case 'array':
        return this.#array(node, path, depth);
      default:
        return { g: { type }, c: { type } };
    }
  }

  #string(node: Json, path: string): Pair {
    const lengths = pick(node, ['minLength', 'maxLength'], (v) => Number.isInteger(v) && (v as number) >= 0, () =>
      this.#fail(path, '`minLength` and `maxLength` must be non-negative integers'),
    );
    if (contradicts(lengths, 'minLength', 'maxLength')) this.#fail(path, '`minLength` is larger than `maxLength`: no string can match');
    const format = node['format'];
    if (format === undefined) return { g: { type: 'string', ...lengths }, c: { type: 'string', ...lengths } };
    if (typeof format !== 'string' || !FORMATS.includes(format)) this.#fail(path, `\`format\` must be one of ${FORMATS.join(', ')} (others cannot be enforced)`);
    if (Object.keys(lengths).length > 0) this.#fail(path, '`format` cannot be combined with `minLength` or `maxLength`');
    // The format is the grammar's job; the check only asks for a string (formats differ in strictness).
    return { g: { type: 'string', format }, c: { type: 'string' } };
  }

  #objectType(node: Json, path: string, depth: number): Pair {
    const properties = node['properties'] === undefined ? {} : this.#object(node['properties'], `${path}/properties`);
    const g: Json = { type: 'object' };
    const c: Json = { type: 'object' };
    const names = Object.keys(properties);
    if (names.length > 0) {
      const converted = names.map((name) => [name, this.#node(properties[name], `${path}/properties/${name}`, depth + 1)] as const);
      g['properties'] = Object.fromEntries(converted.map(([n, p]) => [n, p.g]));
      c['properties'] = Object.fromEntries(converted.map(([n, p]) => [n, p.c]));
    }
    const required = node['required'];
    if (required !== undefined) {
      if (!Array.isArray(required) || !required.every((r) => typeof r === 'string')) this.#fail(path, '`required` must be an array of names');
      const unknown = required.find((r) => !names.includes(r));
      if (unknown !== undefined) this.#fail(path, `\`required\` names \`${unknown}\`, which is not in \`properties\``);
      // Every property is generated anyway (node-llama-cpp makes them all required).
      c['required'] = required;
    }
    const additional = node['additionalProperties'];
    if (additional === true || (additional !== undefined && additional !== false)) {
      const pair = additional === true ? { g: true, c: true } : this.#node(additional, `${path}/additionalProperties`, depth + 1);
      g['additionalProperties'] = pair.g;
      c['additionalProperties'] = pair.c;
    } else if (additional === false) {
      c['additionalProperties'] = false;
    }
    const counts = pick(node, ['minProperties', 'maxProperties'], (v) => Number.isInteger(v) && (v as number) >= 0, () =>
      this.#fail(path, '`minProperties` and `maxProperties` must be non-negative integers'),
    );
    if (contradicts(counts, 'minProperties', 'maxProperties')) this.#fail(path, '`minProperties` is larger than `maxProperties`: no object can match');
    return { g: { ...g, ...counts }, c: { ...c, ...counts } };
  }

  #array(node: Json, path: string, depth: number): Pair {
    const g: Json = { type: 'array' };
    const c: Json = { type: 'array' };
    let items = node['items'];
    let prefix = node['prefixItems'];
    // Draft-07 tuples (`items: [..]`) are 2020-12 `prefixItems`.
    if (Array.isArray(items)) {
      if (prefix !== undefined) this.#fail(path, '`items` as an array cannot be combined with `prefixItems`');
      prefix = items;
      items = undefined;
    }
    const counts = pick(node, ['minItems', 'maxItems'], (v) => Number.isInteger(v) && (v as number) >= 0, () =>
      this.#fail(path, '`minItems` and `maxItems` must be non-negative integers'),
    );
    if (contradicts(counts, 'minItems', 'maxItems')) this.#fail(path, '`minItems` is larger than `maxItems`: no array can match');
    if (prefix !== undefined) {
      if (!Array.isArray(prefix)) this.#fail(path, '`prefixItems` must be an array of schemas');
      const converted = prefix.map((item, i) => this.#node(item, `${path}/prefixItems/${i}`, depth + 1));
      g['prefixItems'] = converted.map((p) => p.g);
      c['prefixItems'] = converted.map((p) => p.c);
    }
    if (items === false) {
      // No items after the tuple: the grammar needs that said as a maximum.
      const length = Array.isArray(prefix) ? prefix.length : 0;
      counts['maxItems'] = Math.min(length, typeof counts['maxItems'] === 'number' ? counts['maxItems'] : length);
    } else if (items !== undefined) {
      const pair = this.#node(items, `${path}/items`, depth + 1);
      g['items'] = pair.g;
      c['items'] = pair.c;
    }
    return { g: { ...g, ...counts }, c: { ...c, ...counts } };
  }
}

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

/** True when both bounds are set and the lower one is above the upper one. */
function contradicts(bounds: Json, low: string, high: string): boolean {
  return typeof bounds[low] === 'number' && typeof bounds[high] === 'number' && bounds[low] > bounds[high];
}

function pick(node: Json, keys: readonly string[], valid: (v: unknown) => boolean, fail: () => never): Json {
  const out: Json = {};
  for (const key of keys) {
    if (node[key] === undefined) continue;
    if (!valid(node[key])) fail();
    out[key] = node[key];
  }
  return out;
}
