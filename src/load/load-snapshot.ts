// The frame of GET /admin/load: one periodic snapshot of how busy the daemon is. A stream of its
// own beside /admin/status, so the v1 status frames stay exactly as the contract has them.
import { Type, type Static } from 'typebox';

export const LoadModelSchema = Type.Object(
  {
    name: Type.String({ description: '`general.name` of the model, else its file name' }),
    path: Type.String({ description: 'Filesystem path of the GGUF file' }),
    size_bytes: Type.Integer({ minimum: 0 }),
    sha256: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()], {
      description: 'The configured SHA-256 of a store model; null for a model given by path',
    }),
    n_ctx: Type.Integer({ minimum: 1, description: 'Context size per slot' }),
    threads: Type.Integer({ minimum: 1 }),
  },
  { title: 'LoadModel' },
);

export const LoadSnapshotSchema = Type.Object(
  {
    type: Type.Literal('load'),
    boot: Type.String({ description: 'Boot id of the daemon process; the prefix of /admin/status event ids' }),
    state: Type.Enum(['starting', 'loading', 'ready', 'restarting', 'draining', 'failed', 'stopped']),
    slots_busy: Type.Integer({ minimum: 0, description: 'Requests holding a slot' }),
    slots_total: Type.Integer({ minimum: 1 }),
    queued: Type.Integer({ minimum: 0, description: 'Requests waiting for a slot' }),
    queue_capacity: Type.Integer({ minimum: 0 }),
    tokens_per_second: Type.Number({ minimum: 0, description: 'Generated text pieces per second over the last 5 s, counted as they stream' }),
    ttft_p50_ms: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
      description: 'Median time to first token of requests finished in the last 60 s; null when none',
    }),
    requests_done: Type.Integer({ minimum: 0, description: 'Inference requests finished since the daemon started' }),
    model: Type.Union([LoadModelSchema, Type.Null()], { description: 'The serving model; null while none is loaded' }),
  },
  { title: 'LoadSnapshot', description: 'One line of /admin/load' },
);

export type LoadSnapshot = Static<typeof LoadSnapshotSchema>;
