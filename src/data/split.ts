// A deterministic train/eval split: a seeded shuffle of the row indices (mulberry32 + Fisher-Yates), the
// first part held out for evaluation. The same rows, fraction and seed always give the same split; each
// part keeps the file's order.

function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DatasetSplit<T> {
  train: T[];
  eval: T[];
}

/** Holds out round(evalFraction * n) rows (at least 1 when evalFraction > 0 and there are 2 or more rows;
 * never all of them) for evaluation. */
export function splitDataset<T>(rows: readonly T[], evalFraction: number, seed: number): DatasetSplit<T> {
  if (!(evalFraction >= 0 && evalFraction < 1)) throw new Error(`evalFraction must be in [0, 1), got ${evalFraction}`);
  const n = rows.length;
  let nEval = 0;
  if (evalFraction > 0 && n >= 2) nEval = Math.min(n - 1, Math.max(1, Math.round(evalFraction * n)));
  const order = Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const isEval = new Uint8Array(n);
  for (let k = 0; k < nEval; k++) isEval[order[k]] = 1;
  const train: T[] = [];
  const evalRows: T[] = [];
  rows.forEach((r, i) => (isEval[i] ? evalRows : train).push(r));
  return { train, eval: evalRows };
}
