// A model file named by a caller (POST /admin/reload, `inferd import`, `inferd models`): missing
// is `model_not_found` (404), anything else that is not a readable, well-formed GGUF is
// `model_invalid` (422). Reads the header, metadata and tensor table only, never the weights.
import { InferdError } from '../errors.js';
import { checkGgufFile, type GgufSummary } from '../engine/gguf-check.js';

export async function checkModelFile(path: string): Promise<GgufSummary> {
  try {
    return await checkGgufFile(path);
  } catch (err) {
    if (err instanceof InferdError && err.code === 'model_missing') {
      throw new InferdError('model_not_found', `model file ${path} does not exist`, { cause: err, detail: { path } });
    }
    if (err instanceof InferdError && err.code === 'model_invalid') throw err;
    const code = (err as NodeJS.ErrnoException | null)?.code;
    throw new InferdError('model_invalid', `cannot read model file ${path}: ${code ?? (err as Error).message}`, { cause: err, detail: { path } });
  }
}
