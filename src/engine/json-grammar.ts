// JSON grammars with finite numbers. node-llama-cpp 3.21.1 lets a JSON-schema `integer` take an
// exponent (`5100200720210214e-10102012`, which parses to 0, or `47321e-6`, not an integer at
// all) and lets any number take a 16-digit exponent (`1e999…` parses to Infinity). We take the
// grammar it generates and tighten exactly those rules: integers get no exponent, other numbers
// an exponent of at most two digits. The OpenAI layer still checks the output afterwards.
import type { Llama, LlamaGrammar } from 'node-llama-cpp';

/** The exponent node-llama-cpp's JSON-schema grammar puts on both number rules. */
const SCHEMA_EXPONENT = ' ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?';
/** The exponent of node-llama-cpp's bundled `json.gbnf`. */
const BUNDLED_EXPONENT = ' ([eE] [-+]? [0-9] [1-9]{0,15})?';
const SHORT_EXPONENT = ' ([eE] [-+]? [0-9]{1,2})?';

export interface PatchedGrammar {
  text: string;
  /** False when the rules were not found (a different node-llama-cpp); the text is unchanged. */
  patched: boolean;
}

/** Tightens the number rules of a grammar generated from a JSON schema. */
export function patchSchemaGrammar(grammar: string): PatchedGrammar {
  let patched = false;
  const text = grammar
    .split('\n')
    .map((line) => {
      if (!line.endsWith(SCHEMA_EXPONENT)) return line;
      if (line.startsWith('integer-number-rule ::= ')) {
        patched = true;
        return line.slice(0, -SCHEMA_EXPONENT.length);
      }
      if (line.startsWith('fractional-number-rule ::= ')) {
        patched = true;
        return line.slice(0, -SCHEMA_EXPONENT.length) + SHORT_EXPONENT;
      }
      return line;
    })
    .join('\n');
  // A schema without numbers has no number rules: nothing to patch is fine.
  return { text, patched: patched || !/(integer|fractional)-number-rule ::=/.test(grammar) };
}

/** Tightens the number rule of node-llama-cpp's bundled JSON grammar. */
export function patchBundledJsonGrammar(grammar: string): PatchedGrammar {
  const index = grammar.indexOf(BUNDLED_EXPONENT);
  if (index < 0 || !/^number ::=/m.test(grammar)) return { text: grammar, patched: false };
  return { text: grammar.slice(0, index) + SHORT_EXPONENT + grammar.slice(index + BUNDLED_EXPONENT.length), patched: true };
}

export async function jsonSchemaGrammar(llama: Llama, schema: Record<string, unknown>): Promise<LlamaGrammar> {
  const base = await llama.createGrammarForJsonSchema(schema as never);
  return rebuild(llama, base, patchSchemaGrammar(base.grammar));
}

export async function anyJsonGrammar(llama: Llama): Promise<LlamaGrammar> {
  const base = await llama.getGrammarFor('json');
  return rebuild(llama, base, patchBundledJsonGrammar(base.grammar));
}

async function rebuild(llama: Llama, base: LlamaGrammar, patch: PatchedGrammar): Promise<LlamaGrammar> {
  if (!patch.patched || patch.text === base.grammar) return base;
  return llama.createGrammar({
    grammar: patch.text,
    stopGenerationTriggers: base.stopGenerationTriggers,
    trimWhitespaceSuffix: base.trimWhitespaceSuffix,
  });
}
