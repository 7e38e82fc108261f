// Where each generated row ends: at its first stop id, or at the first token whose text completes a stop string
// (generate.ts and gemma4_generate.ts read their sampled ids back and cut them here).
import type { FinishReason } from './generate';

export interface RowResult {
  tokens: number[];
  finish: FinishReason;
  text?: string;
}

/** Each row's completion: up to its first stop id, or to the first token whose text completes a stop string. */
export function cutRows(ids: Uint32Array, B: number, steps: number, stop: Set<number>, stopStrings: string[], decode?: (ids: number[]) => string): RowResult[] {
  const out: RowResult[] = [];
  for (let b = 0; b < B; b++) {
    const row: number[] = [];
    let finish: FinishReason = 'length';
    for (let s = 0; s < steps; s++) {
      const id = ids[s * B + b];
      if (stop.has(id)) {
        finish = 'stop';
        break;
      }
      row.push(id);
    }
    if (!stopStrings.length || !decode) {
      out.push({ tokens: row, finish });
      continue;
    }
    const text = decode(row);
    let cut = -1;
    for (const st of stopStrings) {
      const at = text.indexOf(st);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut < 0) {
      out.push({ tokens: row, finish, text });
      continue;
    }
    // the shortest token prefix whose text reaches past the stop string's start
    let n = 1;
    while (n < row.length && decode(row.slice(0, n)).length <= cut) n++;
    out.push({ tokens: row.slice(0, n), finish: 'stop', text: text.slice(0, cut) });
  }
  return out;
}
