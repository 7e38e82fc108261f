// Train and held-out rows: the training file split by eval_split (as always), or, when a separate test
// file is given, every row of the training file for training and the test file's rows held out. A test
// file makes held-out accuracy a measurement on data the run never saw in any form, which is what a
// comparison between recipes (and a check for reward hacking) needs.

import { splitDataset, type DatasetSplit } from '../data/split';

export function trainEvalRows<T>(rows: readonly T[], evalRows: readonly T[] | null, evalSplit: number, seed: number): DatasetSplit<T> {
  if (evalRows) return { train: [...rows], eval: [...evalRows] };
  return splitDataset(rows, evalSplit, seed);
}
