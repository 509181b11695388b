// One validator for every boundary: Fastify routes (through the app's validator compiler) and
// the Unix-socket shim call the same compiled TypeBox checks and get the same messages.
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

export interface ValidationIssue {
  instancePath: string;
  message: string;
  keyword?: string;
  params?: unknown;
}

export type ValidationResult = { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] };

export type Validator = (value: unknown) => ValidationResult;

const cache = new WeakMap<TSchema, Validator>();

/**
 * TypeBox's error walk builds an error for every element of a bad array before we can keep the
 * first few: a 24 MB body of 12 million array items exhausted the heap. An array this long is
 * reported on its own, and the walk never runs over it.
 */
export const MAX_ARRAY_ITEMS = 10_000;

/** JSON pointer of the first array longer than MAX_ARRAY_ITEMS, or null. Iterative: no deep recursion. */
function oversizedArray(value: unknown): string | null {
  const stack: Array<[unknown, string]> = [[value, '']];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [node, path] = next;
    if (Array.isArray(node)) {
      if (node.length > MAX_ARRAY_ITEMS) return path;
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], `${path}/${i}`]);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) stack.push([child, `${path}/${key}`]);
    }
  }
  return null;
}

/**
 * Compiles (once per schema object) a validator that fills in schema defaults and checks the
 * value. Defaults are applied to the value in place, as Fastify's own Ajv setup would.
 */
export function validatorFor(schema: TSchema): Validator {
  let validator = cache.get(schema);
  if (validator) return validator;
  const check = Compile(schema);
  validator = (value: unknown): ValidationResult => {
    const withDefaults = value !== null && typeof value === 'object' ? Value.Default(schema, value) : value;
    // Checked first, valid or not: a request of 10 001 well-formed messages is refused here,
    // the same on every transport, before anyone tokenizes it.
    const tooLong = oversizedArray(withDefaults);
    if (tooLong !== null) {
      return { ok: false, issues: [{ instancePath: tooLong, keyword: 'maxItems', message: `must have at most ${MAX_ARRAY_ITEMS} items` }] };
    }
    if (check.Check(withDefaults)) return { ok: true, value: withDefaults };
    return { ok: false, issues: check.Errors(withDefaults).slice(0, 8) };
  };
  cache.set(schema, validator);
  return validator;
}

/**
 * A short human message for the first, most specific issue. Union failures list every branch;
 * the first issue is the deepest one and reads best. Values from the input are never echoed,
 * so an error body stays small whatever was sent.
 */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  const issue = issues[0];
  if (!issue) return 'invalid value';
  const where = issue.instancePath ? issue.instancePath.replace(/^\//, '').replace(/\//g, '.') : 'body';
  const params = issue.params as { allowedValues?: unknown[]; requiredProperties?: string[] } | undefined;
  if (issue.keyword === 'required' && params?.requiredProperties?.length) {
    const missing = params.requiredProperties.join(', ');
    return issue.instancePath ? `${where}: missing field ${missing}` : `missing field ${missing}`;
  }
  if (issue.keyword === 'enum' && Array.isArray(params?.allowedValues)) {
    return `${where} must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${where} ${issue.message}`;
}
