// Lifecycle status events (contract §1.10, §3.1). The TypeScript value of an event is already the
// flattened wire shape minus the envelope: phase detail keys sit beside `status` and `phase`, as
// they do on the wire. `renderStatusFrame` adds the `{"id":"admin","type":"status"}` envelope and
// is the only producer of status frame bytes for every transport.
import { Type, type Static, type TObject, type TProperties } from 'typebox';

const Path = Type.String({ description: 'Filesystem path of the model file' });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Lowercase hex SHA-256' });

/** Phases shared by `loading_model` and `restarting`. */
const LOAD_PHASES = {
  checking_local: { path: Path },
  download: {
    downloaded_bytes: Type.Integer({ minimum: 0 }),
    total_bytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
      description: 'Content-Length, else the configured size_bytes, else null. The key is always present.',
    }),
    source_url: Type.String(),
  },
  verify: { path: Path },
  quarantine: {
    path: Path,
    expected_sha256: Sha256,
    actual_sha256: Sha256,
    quarantine_path: Path,
    quarantine_removed: Type.Optional(
      Type.Array(Path, { description: 'Additive: older quarantined files removed to keep the folder within its caps' }),
    ),
  },
  mmap: { path: Path },
  kv_cache: { n_ctx: Type.Integer({ minimum: 1 }) },
} satisfies Record<string, TProperties>;

/** Extra phases of ours that only a reload goes through. */
const RESTART_ONLY_PHASES = {
  drain: { in_flight: Type.Integer({ minimum: 0, description: 'Requests still running when the reload began' }) },
  rollback: { message: Type.String({ description: 'Why the reload failed; the previous model keeps serving' }) },
} satisfies Record<string, TProperties>;

function phased<S extends string, P extends Record<string, TProperties>>(status: S, phases: P) {
  return Object.entries(phases).map(([phase, detail]) =>
    Type.Object(
      { status: Type.Literal(status), phase: Type.Literal(phase), ...detail },
      { title: `${status}/${phase}` },
    ),
  );
}

export const CapabilitiesEventSchema = Type.Object(
  {
    status: Type.Literal('capabilities'),
    backend: Type.String({ description: 'Label of the serving backend (the model name)' }),
    wire_version: Type.Integer({ minimum: 1 }),
    v2: Type.Boolean(),
    vision: Type.Boolean(),
    audio: Type.Boolean(),
    tools: Type.Boolean(),
    thinking: Type.Boolean(),
    embed: Type.Boolean(),
    accelerator: Type.String({ description: 'cpu | cuda | metal | vulkan' }),
    gpu_layers: Type.Integer({ minimum: 0 }),
    device_name: Type.Optional(Type.String()),
    vram_total_bytes: Type.Optional(Type.Integer({ minimum: 0 })),
    model: Type.Optional(Type.String({ description: 'Additive: path of the loaded GGUF file' })),
    n_ctx: Type.Optional(Type.Integer({ minimum: 1, description: 'Additive: context size per slot' })),
  },
  { title: 'capabilities' },
);

const simple = <S extends string>(status: S, extra: TProperties = {}): TObject =>
  Type.Object({ status: Type.Literal(status), ...extra }, { title: status });

export const StatusEventSchema = Type.Union(
  [
    simple('starting'),
    ...phased('loading_model', LOAD_PHASES),
    CapabilitiesEventSchema,
    simple('ready'),
    ...phased('restarting', { ...LOAD_PHASES, ...RESTART_ONLY_PHASES }),
    simple('draining'),
    simple('failed', { message: Type.String({ description: 'Why bring-up failed; the process exits next' }) }),
  ],
  { title: 'StatusEvent' },
);

/**
 * The TypeScript view of StatusEventSchema, spelled out so narrowing on `status` and `phase`
 * works. A test checks it against the schema both ways.
 */
export type LoadPhase =
  | { phase: 'checking_local'; path: string }
  | { phase: 'download'; downloaded_bytes: number; total_bytes: number | null; source_url: string }
  | { phase: 'verify'; path: string }
  | { phase: 'quarantine'; path: string; expected_sha256: string; actual_sha256: string; quarantine_path: string; quarantine_removed?: string[] }
  | { phase: 'mmap'; path: string }
  | { phase: 'kv_cache'; n_ctx: number };

export type RestartPhase = LoadPhase | { phase: 'drain'; in_flight: number } | { phase: 'rollback'; message: string };

export type CapabilitiesEvent = Static<typeof CapabilitiesEventSchema>;

export type StatusEvent =
  | { status: 'starting' }
  | ({ status: 'loading_model' } & LoadPhase)
  | CapabilitiesEvent
  | { status: 'ready' }
  | ({ status: 'restarting' } & RestartPhase)
  | { status: 'draining' }
  | { status: 'failed'; message: string };

export type StatusName = StatusEvent['status'];

/** The wire frame: the event flattened into the admin envelope. */
export const StatusFrameSchema = Type.Union(
  StatusEventSchema.anyOf.map((member) =>
    Type.Object(
      { id: Type.Literal('admin'), type: Type.Literal('status'), ...(member as TObject).properties },
      { title: `frame ${String((member as { title?: string }).title ?? '')}`.trim() },
    ),
  ),
  { title: 'StatusFrame', description: 'One line of /admin/status and admin.sock' },
);

/** The one renderer of admin frames. Every transport writes exactly these bytes (plus framing). */
export function renderStatusFrame(event: StatusEvent): string {
  return JSON.stringify({ id: 'admin', type: 'status', ...event });
}
