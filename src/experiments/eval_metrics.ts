// An evaluation as metric-row entries, in the names metrics.jsonl and the page's CSV use: eval/pass@1 and
// eval/reward_mean always; with num_generations_eval = n > 1 also eval/pass@k, eval/mean@k and eval/maj@k
// (the majority answer of the first k samples is right) for k = 1..n.

import type { EvalReport } from '../grpo/trainer';

export function evalMetrics(e: Pick<EvalReport, 'pass@1' | 'reward_mean' | 'atK'>): Record<string, number> {
  const out: Record<string, number> = { 'eval/pass@1': e['pass@1'], 'eval/reward_mean': e.reward_mean };
  for (const [k, v] of Object.entries(e.atK ?? {})) if (k !== 'pass@1') out[`eval/${k}`] = v;
  return out;
}
