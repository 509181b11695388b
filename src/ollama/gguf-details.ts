// Ollama's model `details` from GGUF metadata: family from `general.architecture`,
// parameter_size from the tensor table, quantization_level from `general.file_type`. Store
// entries that are not loaded are read from their file header (metadata and tensor table, never
// the weights) once per blob: blobs are content-addressed, so a digest's facts never change.
import type { GgufFacts } from '../engine/engine.js';
import { checkGgufFile } from '../engine/gguf-check.js';
import type { OllamaModelDetails } from './common-schemas.js';

/** llama_ftype values (llama.h) by the names Ollama prints; gaps are types llama.cpp retired. */
const FILE_TYPES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S',
  12: 'Q3_K_M', 13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K',
  19: 'IQ2_XXS', 20: 'IQ2_XS', 21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL',
  26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S', 29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16',
  36: 'TQ1_0', 37: 'TQ2_0',
};

/** Empty strings mean "not known", as Ollama leaves them for models it cannot read. */
export const UNKNOWN_DETAILS: OllamaModelDetails = { parent_model: '', format: 'gguf', family: '', families: [], parameter_size: '', quantization_level: '' };

/** 494032768 → "494.03M", 7615616512 → "7.6B", as Ollama formats parameter counts. */
export function parameterSize(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(1)}B`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(2)}M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(2)}K`;
  return String(count);
}

export function detailsOf(facts: GgufFacts | undefined): OllamaModelDetails {
  if (facts === undefined) return UNKNOWN_DETAILS;
  const quantization = facts.fileType === undefined ? '' : (FILE_TYPES[facts.fileType] ?? `file_type ${facts.fileType}`);
  return { ...UNKNOWN_DETAILS, family: facts.architecture, families: [facts.architecture], parameter_size: parameterSize(facts.parameterCount), quantization_level: quantization };
}

const byDigest = new Map<string, Promise<OllamaModelDetails>>();

/** The details of a store blob; a file that cannot be read reports "not known" (and is retried). */
export function blobDetails(sha256: string, path: string): Promise<OllamaModelDetails> {
  let details = byDigest.get(sha256);
  if (details === undefined) {
    details = checkGgufFile(path).then(
      (summary) => detailsOf({ architecture: summary.architecture, parameterCount: summary.parameterCount, ...(summary.fileType === undefined ? {} : { fileType: summary.fileType }) }),
      () => {
        byDigest.delete(sha256);
        return UNKNOWN_DETAILS;
      },
    );
    byDigest.set(sha256, details);
  }
  return details;
}
