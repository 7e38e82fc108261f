// Learning-rate schedules as Hugging Face's get_scheduler builds them: linear warmup over
// ceil(warmup_ratio * max_steps) steps, then constant, linear decay to 0, or cosine decay to 0.

import type { LrSchedulerType } from './config/enums';
/** The config's lr_scheduler_type. */
export type SchedulerType = LrSchedulerType;

/** Learning rate used by optimizer step `step` (0-based) of `maxSteps`. */
export function learningRate(base: number, type: SchedulerType, warmupRatio: number, step: number, maxSteps: number): number {
  const warmup = Math.ceil(warmupRatio * maxSteps);
  if (step < warmup) return (base * step) / Math.max(1, warmup);
  if (type === 'constant') return base;
  const progress = (step - warmup) / Math.max(1, maxSteps - warmup);
  if (type === 'linear') return base * Math.max(0, 1 - progress);
  return base * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
}
