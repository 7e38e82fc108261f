// `npm run pretrain`: pretrains the built-in model (public/models/tiny-puzzles/) from random initialisation
// with the project's own engine (supervised, every weight), on a corpus this script generates, and writes
// the demo datasets (public/datasets/<family>.jsonl) whose prompts the corpus never contains.
//
//   node bin/run-ts.mjs scripts/pretrain.ts [--steps N] [--out DIR] [--datasets DIR] [--batch B] [--lr X]
//
// Deterministic: fixed seeds for the corpus, the initialisation and the data order.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { acquireNodeGpu } from '../src/gpu/node';
import { GpuTransformer } from '../src/model/transformer';
import { generate } from '../src/model/generate';
import { createHfTokenizer } from '../src/model/tokenizer_hf';
import { saveTinyFolder } from './save_tiny_folder';
import { SftTrainer, type SftExample } from '../src/grpo/sft';
import { defaultCorpusOptions, demoDatasets, demoFiles, pretrainingCorpus, toJsonl, TASK_FAMILIES, type TaskFamily, type TaskRow } from '../src/demo/corpus';
import { charTokenizerJson, EOS_ID } from '../src/demo/tokenizer';
import { initWeights, parameterCount, TINY_PUZZLES_SHAPE, tinyConfigJson, tinyModelConfig, type TinyShape } from '../src/demo/model_init';
import { swapLastTwo } from '../src/demo/corpus';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '1000' },
    out: { type: 'string', default: 'public/models/tiny-puzzles' },
    datasets: { type: 'string', default: 'public/datasets' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string', default: '5e-3' },
    'eval-every': { type: 'string', default: '100' },
    'eval-n': { type: 'string', default: '64' },
    seed: { type: 'string', default: '7' },
    // the learning-rate schedule's length (cosine decay over it; default: --steps)
    horizon: { type: 'string' },
    'save-every': { type: 'string', default: '0' },
    // the model's shape (defaults: TINY_PUZZLES_SHAPE of src/demo/model_init.ts)
    layers: { type: 'string' },
    hidden: { type: 'string' },
    mlp: { type: 'string' },
  },
});
const STEPS = Number(args.steps);
const BATCH = Number(args.batch);
const LR = Number(args.lr);
const EVAL_EVERY = Number(args['eval-every']);
const EVAL_N = Number(args['eval-n']);
const INIT_SEED = Number(args.seed);
const HORIZON = Math.max(Number(args.horizon ?? STEPS), STEPS);
const SAVE_EVERY = Number(args['save-every']);

const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)}s`;

// 1. demo datasets and the corpus, which must not contain any demo prompt
const demo = demoDatasets();
await mkdir(args.datasets!, { recursive: true });
for (const [name, rows] of Object.entries(demoFiles())) await writeFile(join(args.datasets!, `${name}.jsonl`), toJsonl(rows));
const corpusOpts = defaultCorpusOptions();
const corpus = pretrainingCorpus(corpusOpts);
const leaked = corpus.filter((r) => corpusOpts.exclude.has(r.prompt));
if (leaked.length) throw new Error(`the corpus contains ${leaked.length} demo prompts (first: ${leaked[0].prompt})`);
const counts = TASK_FAMILIES.map((f) => `${f} ${corpus.filter((r) => r.family === f).length}`).join(', ');
console.log(`corpus: ${corpus.length} rows (${counts}); none of the ${corpusOpts.exclude.size} demo prompts`);

// 2. tokenizer and model
const shape: TinyShape = {
  ...TINY_PUZZLES_SHAPE,
  ...(args.layers ? { numLayers: Number(args.layers) } : {}),
  ...(args.hidden ? { hiddenSize: Number(args.hidden) } : {}),
  ...(args.mlp ? { intermediateSize: Number(args.mlp) } : {}),
};
const configJson = tinyConfigJson(shape);
const tokenizerJson = charTokenizerJson();
const tokenizer = createHfTokenizer({ tokenizerJson, config: configJson });
const config = tinyModelConfig(shape);
const host = initWeights(config, INIT_SEED);
const examples: SftExample[] = corpus.map((r) => ({
  prompt: tokenizer.encode(r.prompt, { addBos: true }),
  answer: [...tokenizer.encode(r.answer, { addBos: false }), EOS_ID],
}));

const gpu = await acquireNodeGpu();
console.log(`adapter: ${gpu.describe()}`);
const model = GpuTransformer.upload(gpu, config, host);
console.log(
  `model: ${config.numLayers} layers, hidden ${config.hiddenSize}, ${config.numHeads} heads, MLP ${config.intermediateSize}, ` +
    `vocab ${config.vocabSize}: ${parameterCount(host)} parameters`,
);

/** Held-out accuracy on the first EVAL_N rows of each demo dataset (none of which the corpus contains):
 * greedy exact match, and for reverse also the share of greedy answers with the slip and exact match
 * when sampling at temperature 1. */
interface HeldOut { greedy: Record<TaskFamily, number>; reverseSlip: number; reverseSampled: number }
async function answers(rows: TaskRow[], temperature: number): Promise<string[]> {
  const gen = await generate(model, rows.map((r) => tokenizer.encode(r.prompt, { addBos: true })), {
    maxNewTokens: 10, temperature, topK: 0, topP: 1, seed: 0, stopIds: [EOS_ID], lora: null,
  });
  return gen.tokens.map((t) => tokenizer.decode(t));
}
async function heldOut(): Promise<HeldOut> {
  const greedy = {} as Record<TaskFamily, number>;
  let reverseSlip = 0;
  for (const f of TASK_FAMILIES) {
    const rows: TaskRow[] = demo[f].slice(0, EVAL_N);
    const out = await answers(rows, 0);
    greedy[f] = rows.filter((r, i) => out[i] === r.answer).length / rows.length;
    if (f === 'reverse') reverseSlip = rows.filter((r, i) => out[i] !== r.answer && out[i] === swapLastTwo(r.answer)).length / rows.length;
  }
  const rrows = demo.reverse.slice(0, EVAL_N);
  const sampled = await answers(rrows, 1);
  const reverseSampled = rrows.filter((r, i) => sampled[i] === r.answer).length / rrows.length;
  return { greedy, reverseSlip, reverseSampled };
}
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const fmtAcc = (a: HeldOut) =>
  TASK_FAMILIES.map((f) => `${f} ${pct(a.greedy[f])}`).join('  ') + `  (reverse: greedy with the slip ${pct(a.reverseSlip)}, sampled at T=1 ${pct(a.reverseSampled)})`;

// 3. supervised training of every weight: cross-entropy on the answer tokens and EOS
const sft = new SftTrainer(gpu, model, examples, {
  mode: 'full', learningRate: LR, scheduler: 'cosine', warmupRatio: 0.02, maxSteps: HORIZON, batchSize: BATCH, seed: INIT_SEED,
  beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, maxGradNorm: 1,
}, null);
const save = (dir: string) => saveTinyFolder(dir, gpu, model, config, configJson, tokenizerJson);

let lossSum = 0;
let lossN = 0;
let lastLoss = NaN;
for (let s = 1; s <= STEPS; s++) {
  const r = await sft.trainStep();
  lossSum += r.loss;
  lossN++;
  if (s % 25 === 0 || s === STEPS) {
    lastLoss = lossSum / lossN;
    console.log(`step ${s}/${STEPS}  loss ${lastLoss.toFixed(4)}  lr ${r.learning_rate.toExponential(2)}  ${r.step_time.toFixed(2)}s/step  ${elapsed()}`);
    lossSum = lossN = 0;
  }
  if (s % EVAL_EVERY === 0 || s === STEPS) console.log(`held-out accuracy @ ${s}: ${fmtAcc(await heldOut())}`);
  if (SAVE_EVERY > 0 && s % SAVE_EVERY === 0 && s < STEPS) await save(`${args.out}-step${s}`);
}
sft.release();

// 4. the Hugging Face folder
await save(args.out!);
const wall = (performance.now() - t0) / 1000;
console.log(`wrote ${args.out}/config.json, model.safetensors, tokenizer.json; final loss ${lastLoss.toFixed(4)}; wall time ${wall.toFixed(0)}s (${(wall / 60).toFixed(1)} min) on ${gpu.describe()}`);
model.release();
gpu.destroy();
