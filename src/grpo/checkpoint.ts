// Checkpoints of a GRPO run: LoRA A/B, AdamW's m and v, and the trainer's progress (step, data order,
// counters), the config and a fingerprint of the training prompts — one safetensors file whose metadata
// holds the JSON state, so that writing it to a temporary name and renaming it replaces the previous
// checkpoint atomically. Restoring into a trainer built from the same config and data continues the run
// exactly as if it had never stopped (every random draw is keyed by seed and step).

import type { GpuRuntime } from '../gpu/runtime';
import { readSafetensors, writeSafetensors } from '../model/safetensors';
import { parseConfigJson, type GrpoConfig, type ValidationContext } from './config';
import type { GrpoTrainer, TrainerProgress } from './trainer';
import type { PromptExample } from './rollout';

/** What a checkpoint holds of a trainer: GrpoTrainer, or the preference trainer (src/grpo/preference/trainer.ts). */
export type CheckpointTrainer = Pick<GrpoTrainer, 'optimizer' | 'config' | 'progress' | 'restoreProgress'>;

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
const STATE_KEY = 'grpo_playground_state';

export interface CheckpointState {
  version: 1;
  progress: TrainerProgress;
  config: GrpoConfig;
  datasetFingerprint: string;
}

/** FNV-1a (32 bit) over the prompts' ids and answers, in order: a changed dataset does not resume silently. */
export function datasetFingerprint(examples: readonly PromptExample[]): string {
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    h = Math.imul(h ^ (x & 0xff), 0x01000193) >>> 0;
    h = Math.imul(h ^ ((x >>> 8) & 0xff), 0x01000193) >>> 0;
    h = Math.imul(h ^ ((x >>> 16) & 0xff), 0x01000193) >>> 0;
  };
  for (const e of examples) {
    for (const id of e.ids) mix(id);
    mix(0xfffff);
    for (let i = 0; i < e.answer.length; i++) mix(e.answer.charCodeAt(i));
    mix(0xffffe);
  }
  return `${examples.length}:${h.toString(16).padStart(8, '0')}`;
}

export async function saveCheckpoint(gpu: GpuRuntime, trainer: CheckpointTrainer, fingerprint: string): Promise<Uint8Array> {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const opt = trainer.optimizer;
  for (let i = 0; i < opt.params.length; i++) {
    const p = opt.params[i];
    tensors.set(p.name, { shape: [...p.param.shape], data: await gpu.read(p.param) });
    tensors.set(`${p.name}.adam_m`, { shape: [...p.param.shape], data: await gpu.read(opt.m[i]) });
    tensors.set(`${p.name}.adam_v`, { shape: [...p.param.shape], data: await gpu.read(opt.v[i]) });
  }
  const state: CheckpointState = { version: 1, progress: trainer.progress(), config: trainer.config, datasetFingerprint: fingerprint };
  return writeSafetensors(tensors, { format: 'pt', [STATE_KEY]: JSON.stringify(state) });
}

/** The state stored in a checkpoint file (to build a matching trainer before restoring). A checkpoint is
 * somebody else's file: its config goes through the same parsing and validation as a new run's config
 * file (types, unknown keys, ranges, cross-field rules; `ctx` as for a new run when the model is known). */
export function readCheckpointState(bytes: Uint8Array, source: string, ctx: ValidationContext = {}): CheckpointState {
  const { metadata } = readSafetensors(bytes, source, () => false);
  const raw = metadata[STATE_KEY];
  if (!raw) throw new Error(`${source}: not a GRPO Playground checkpoint (no ${STATE_KEY} metadata)`);
  let state: CheckpointState;
  try {
    state = JSON.parse(raw) as CheckpointState;
  } catch {
    throw new Error(`${source}: its trainer state is not valid JSON`);
  }
  if (state === null || typeof state !== 'object' || Array.isArray(state)) throw new Error(`${source}: its trainer state is not a JSON object`);
  if (state.version !== 1) throw new Error(`${source}: checkpoint version ${String(state.version)} is not supported`);
  if (state.progress === null || typeof state.progress !== 'object' || Array.isArray(state.progress)) throw new Error(`${source}: its trainer state has no progress object`);
  // a checkpoint from before a config field existed resumes with that field's default (parseConfigJson
  // starts from the defaults)
  return { ...state, config: parseConfigJson(state.config, `${source}: its config`, ctx) };
}

/** Loads a checkpoint into a trainer built from the checkpoint's config and the same data. */
export function restoreCheckpoint(gpu: GpuRuntime, trainer: CheckpointTrainer, bytes: Uint8Array, source: string, fingerprint: string): CheckpointState {
  const state = readCheckpointState(bytes, source);
  if (state.datasetFingerprint !== fingerprint) {
    throw new Error(`${source}: the checkpoint was made with other training data (fingerprint ${state.datasetFingerprint}, now ${fingerprint}); resume with the same dataset and config`);
  }
  const { tensors } = readSafetensors(bytes, source);
  const opt = trainer.optimizer;
  const get = (name: string, shape: readonly number[]) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`${source}: missing tensor ${name}`);
    if (t.shape.join() !== shape.join()) throw new Error(`${source}: tensor ${name} has shape [${t.shape}], the run needs [${shape}]`);
    const bad = t.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new Error(`${source}: tensor ${name} holds ${t.data[bad]} at index ${bad}; a checkpoint's weights and optimizer state must be finite`);
    return t.data;
  };
  for (let i = 0; i < opt.params.length; i++) {
    const p = opt.params[i];
    gpu.write(p.param, get(p.name, p.param.shape));
    gpu.write(opt.m[i], get(`${p.name}.adam_m`, p.param.shape));
    gpu.write(opt.v[i], get(`${p.name}.adam_v`, p.param.shape));
  }
  trainer.restoreProgress(state.progress);
  return state;
}
