// "Try on 5 rows": runs the custom JavaScript reward in its sandbox worker (the same one training uses)
// on a few rows and sorts its messages by row, so each row shows its output or its error.

import { CustomReward, type SandboxRow } from '../../grpo/rewards';

export interface TryRow extends SandboxRow {
  /** where the row comes from, e.g. "line 3" or "step 12" */
  origin: string;
}

export interface TryOutcome {
  rows: TryRow[];
  values: (number | number[] | null)[];
  /** per row: the error message, or null */
  errors: (string | null)[];
  /** problems of the whole batch (does not compile, timed out) */
  batchErrors: string[];
}

/** Messages "row i: ..." go to row i; the rest concern the whole batch. */
export function splitRowErrors(messages: readonly string[], rows: number): { errors: (string | null)[]; batchErrors: string[] } {
  const errors: (string | null)[] = Array.from({ length: rows }, () => null);
  const batchErrors: string[] = [];
  for (const m of messages) {
    const match = /^row (\d+): ([\s\S]*)$/.exec(m);
    const i = match ? Number(match[1]) : -1;
    if (match && i >= 0 && i < rows) errors[i] = match[2];
    else batchErrors.push(m);
  }
  return { errors, batchErrors };
}

export async function tryCustomReward(source: string, timeoutMs: number, rows: TryRow[]): Promise<TryOutcome> {
  let reward: CustomReward;
  try {
    reward = new CustomReward(source, { timeoutMs });
  } catch (e) {
    return { rows, values: rows.map(() => null), errors: rows.map(() => null), batchErrors: [(e as Error).message] };
  }
  try {
    const r = await reward.evaluate(rows.map(({ prompt, completion, answer, row }) => ({ prompt, completion, answer, row })));
    return { rows, values: r.values, ...splitRowErrors(r.errors, rows.length) };
  } finally {
    reward.dispose();
  }
}
