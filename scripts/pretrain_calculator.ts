// `npm run pretrain:calculator`: pretrains the second built-in model, tiny-calculator
// (public/models/tiny-calculator/), from random initialisation with the project's own engine (supervised,
// every weight) on the calculator corpus of src/demo/calculator.ts, and writes the calculator demo's files
// (public/datasets/calculator.jsonl, calculator.tools.js). The tool's results in the corpus are context
// only (masked out of the loss): the model learns to call the calculator and to copy its result, never to add.
//
//   node bin/run-ts.mjs scripts/pretrain_calculator.ts [--steps N] [--warmup-steps N] [--init DIR] [--out DIR] [--datasets DIR] [--batch B] [--lr X]
//
// --init DIR starts from a saved tiny-calculator folder instead of random initialisation (continued pretraining).
//
// Two phases: --warmup-steps on a corpus that calls the calculator in CALC_WARMUP_CALL_RATE of its rows (the
// model learns to copy numbers into the call and the result into its answer), then the rest of --steps on
// the careless writer's corpus (CALL_RATE), which sets how rarely the model calls.
//
// Deterministic: fixed seeds for the corpus, the initialisation and the data order.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { acquireNodeGpu } from '../src/gpu/node';
import { GpuTransformer } from '../src/model/transformer';
import { generate } from '../src/model/generate';
import { createHfTokenizer } from '../src/model/tokenizer_hf';
import { loadModelFromPath } from '../src/model/load_node';
import { saveTinyFolder } from './save_tiny_folder';
import { SftTrainer, type SftExample } from '../src/grpo/sft';
import { toJsonl } from '../src/demo/corpus';
import { CALC_CHARSET, CALC_WARMUP_CALL_RATE, CALCULATOR_TOOLS_SOURCE, calculatorCorpus, calculatorDataset, readCompletion, withRightCall, type CalcCorpusRow } from '../src/demo/calculator';
import { charTokenizerJson, EOS_ID, SPECIAL_TOKENS } from '../src/demo/tokenizer';
import { initWeights, parameterCount, TINY_PUZZLES_SHAPE, tinyConfigJson, tinyModelConfig, type TinyShape } from '../src/demo/model_init';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '500' },
    'warmup-steps': { type: 'string', default: '350' },
    'save-every': { type: 'string', default: '0' },
    init: { type: 'string' },
    // share of --steps over which the learning rate rises from 0 (a continued run's fresh optimizer needs a gentle start)
    'warmup-ratio': { type: 'string', default: '0.02' },
    // how the corpus answers without the calculator: "repeat" one of the numbers, or "random_digits" (the
    // first stages of the committed model)
    guesses: { type: 'string', default: 'repeat' },
    // the last phase (the committed model's): learn to call in this share of answers without touching how the
    // model copies. Its examples are of two kinds: the choice alone (only the first answer token trained, "["
    // or a guess's first digit) from a corpus that calls in --decide of its rows, and the warm-up corpus's
    // calls with the choice masked out (copying keeps being trained). Training every token of a rare-call
    // corpus wiped the copying out within 20 steps; so did training the choice alone.
    decide: { type: 'string' },
    // share of the last phase's examples that train the choice
    'decide-share': { type: 'string', default: '0.5' },
    out: { type: 'string', default: 'public/models/tiny-calculator' },
    datasets: { type: 'string', default: 'public/datasets' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string', default: '5e-3' },
    'eval-every': { type: 'string', default: '50' },
    'eval-n': { type: 'string', default: '100' },
    seed: { type: 'string', default: '11' },
  },
});
const STEPS = Number(args.steps);
const WARMUP = Math.min(Number(args['warmup-steps']), STEPS);
const SAVE_EVERY = Number(args['save-every']);
const BATCH = Number(args.batch);
const LR = Number(args.lr);
const EVAL_EVERY = Number(args['eval-every']);
const EVAL_N = Number(args['eval-n']);
const INIT_SEED = Number(args.seed);

const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)}s`;

// 1. the demo's files, and the corpus (which excludes every demo prompt)
const demo = calculatorDataset();
await mkdir(args.datasets!, { recursive: true });
await writeFile(join(args.datasets!, 'calculator.jsonl'), toJsonl(demo));
await writeFile(join(args.datasets!, 'calculator.tools.js'), CALCULATOR_TOOLS_SOURCE);
if (args.guesses !== 'repeat' && args.guesses !== 'random_digits') throw new Error(`--guesses must be repeat or random_digits, got ${args.guesses}`);
const guesses = args.guesses;
const corpus = calculatorCorpus({ guesses });
const DECIDE = args.decide === undefined ? null : Number(args.decide);
const DECIDE_SHARE = Number(args['decide-share']);
if (DECIDE !== null && !(DECIDE >= 0 && DECIDE <= 1)) throw new Error(`--decide must be a share from 0 to 1, got ${args.decide}`);
if (!(DECIDE_SHARE > 0 && DECIDE_SHARE < 1)) throw new Error(`--decide-share must be between 0 and 1, got ${args['decide-share']}`);
const warmCorpus = calculatorCorpus({ callRate: CALC_WARMUP_CALL_RATE, seed: 8765, guesses });
for (const [name, c] of [['warm-up corpus', warmCorpus], ['corpus', corpus]] as const) {
  const calls = c.filter((r) => r.kind === 'call');
  console.log(`${name}: ${c.length} rows (${calls.length} calls, ${calls.filter((r) => r.slip).length} of them careless); none of the ${demo.length} demo prompts`);
}

// 2. tokenizer and model
const shape: TinyShape = { ...TINY_PUZZLES_SHAPE, vocabSize: SPECIAL_TOKENS.length + CALC_CHARSET.length };
const configJson = tinyConfigJson(shape);
const tokenizerJson = charTokenizerJson(CALC_CHARSET);
const tokenizer = createHfTokenizer({ tokenizerJson, config: configJson });
const config = tinyModelConfig(shape, 'tiny-calculator');
const host = args.init ? (await loadModelFromPath(args.init)).weights : initWeights(config, INIT_SEED);
if (args.init) console.log(`continuing from ${args.init}`);
const encode = (text: string) => tokenizer.encode(text, { addBos: false });
const toExample = (r: CalcCorpusRow, train: 'all' | 'choice' | 'after_choice' = 'all'): SftExample => {
  const answer: number[] = [];
  const answerMask: number[] = [];
  for (const seg of r.segments) {
    const ids = encode(seg.text);
    answer.push(...ids);
    answerMask.push(...ids.map(() => (seg.trained ? 1 : 0)));
  }
  answer.push(EOS_ID);
  answerMask.push(1);
  if (train === 'choice') answerMask.fill(0, 1);
  if (train === 'after_choice') answerMask[0] = 0;
  return { prompt: tokenizer.encode(r.prompt, { addBos: true }), answer, answerMask };
};

const gpu = await acquireNodeGpu();
console.log(`adapter: ${gpu.describe()}`);
const model = GpuTransformer.upload(gpu, config, host);
console.log(`model: ${config.numLayers} layers, hidden ${config.hiddenSize}, vocab ${config.vocabSize}: ${parameterCount(host)} parameters`);

/** Held-out behaviour on the first EVAL_N demo prompts, sampled at temperature 1 (as the demo samples):
 * how often the model calls, how often a call copies both numbers right, and how often it is right
 * without the tool (its own text after a call, or its guess). */
async function heldOut(): Promise<string> {
  const rows = demo.slice(0, EVAL_N);
  const prompts = rows.map((r) => tokenizer.encode(r.prompt, { addBos: true }));
  const decode = async (ids: number[][], temperature: number, maxNewTokens: number) =>
    (await generate(model, ids, { maxNewTokens, temperature, topK: 0, topP: 1, seed: 0, stopIds: [EOS_ID], lora: null })).tokens.map((t) => tokenizer.decode(t));
  const outs = await decode(prompts, 1, 20);
  const read = rows.map((r, i) => readCompletion(r.prompt, outs[i]));
  const called = read.filter((x) => x.called).length;
  const right = read.filter((x) => x.copiedRight).length;
  const inHead = rows.filter((r, i) => (/(\d+)\D*$/.exec(outs[i])?.[1] ?? '') === r.answer).length;
  // greedy: what the model copies when it takes its most likely token (the corpus's slips are spread over
  // digits, so a model that copies well copies right greedily)
  const gRead = (await decode(prompts, 0, 20)).map((text, i) => readCompletion(rows[i].prompt, text));
  const gCalled = gRead.filter((x) => x.called).length;
  // the answer after a right call and the tool's result, greedily: copying the result ("(579)" -> "579")
  const answers = await decode(rows.map((r) => tokenizer.encode(withRightCall(r), { addBos: true })), 0, 6);
  const resultCopied = rows.filter((r, i) => answers[i].trim() === r.answer).length;
  return `calls ${called}/${rows.length}, copied right ${right}/${called}, right without the tool ${inHead}/${rows.length}; ` +
    `greedy: calls ${gCalled}/${rows.length}, copied right ${gRead.filter((x) => x.copiedRight).length}/${gCalled}, result copied right ${resultCopied}/${rows.length}; e.g. ${JSON.stringify(outs.slice(0, 4))}`;
}

// 3. supervised training of every weight: cross-entropy on the model's own tokens (not the tool's results)
// one learning-rate schedule over both phases: the second phase's trainer starts where the first left off
/** The last phase's examples (--decide): the choice alone, and the warm-up corpus's calls after the choice. */
function decideExamples(callRate: number): SftExample[] {
  const choice = calculatorCorpus({ callRate, seed: 5678, guesses });
  const copies = warmCorpus.filter((r) => r.kind === 'call');
  const nChoice = Math.round((copies.length * DECIDE_SHARE) / (1 - DECIDE_SHARE));
  console.log(`choice corpus: ${choice.length} rows, ${choice.filter((r) => r.kind === 'call').length} calls; ${Math.min(nChoice, choice.length)} choice examples beside ${copies.length} copying examples`);
  return [...choice.slice(0, nChoice).map((r) => toExample(r, 'choice')), ...copies.map((r) => toExample(r, 'after_choice'))];
}
if (DECIDE !== null && WARMUP > 0) throw new Error('--decide is the last phase alone: give --warmup-steps 0 (and --init)');
const trainer = (examples: SftExample[]) => new SftTrainer(gpu, model, examples, {
  mode: 'full', learningRate: LR, scheduler: 'cosine', warmupRatio: Number(args['warmup-ratio']), maxSteps: STEPS, batchSize: BATCH, seed: INIT_SEED,
  beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, maxGradNorm: 1,
}, null);
let sft = trainer(DECIDE !== null ? decideExamples(DECIDE) : (WARMUP > 0 ? warmCorpus : corpus).map((r) => toExample(r)));
let lossSum = 0;
let lossN = 0;
let lastLoss = NaN;
if (args.init) console.log(`held-out @ 0: ${await heldOut()}`);
for (let s = 1; s <= STEPS; s++) {
  if (s === WARMUP + 1 && WARMUP > 0) {
    sft.release();
    sft = trainer(corpus.map((r) => toExample(r)));
    sft.step = WARMUP;
    console.log(`step ${s}: the careless writer's corpus from here on`);
  }
  const r = await sft.trainStep();
  lossSum += r.loss;
  lossN++;
  if (s % 25 === 0 || s === STEPS) {
    lastLoss = lossSum / lossN;
    console.log(`step ${s}/${STEPS}  loss ${lastLoss.toFixed(4)}  lr ${r.learning_rate.toExponential(2)}  ${r.step_time.toFixed(2)}s/step  ${elapsed()}`);
    lossSum = lossN = 0;
  }
  if (s % EVAL_EVERY === 0 || s === STEPS) console.log(`held-out @ ${s}: ${await heldOut()}`);
  if (SAVE_EVERY > 0 && s % SAVE_EVERY === 0 && s < STEPS) await save(`${args.out}-step${s}`);
}
sft.release();
await save(args.out!);

// 4. the Hugging Face folder
function save(dir: string): Promise<void> {
  return saveTinyFolder(dir, gpu, model, config, configJson, tokenizerJson);
}
const wall = (performance.now() - t0) / 1000;
console.log(`wrote ${args.out}/config.json, model.safetensors, tokenizer.json; final loss ${lastLoss.toFixed(4)}; wall time ${wall.toFixed(0)}s (${(wall / 60).toFixed(1)} min) on ${gpu.describe()}`);
model.release();
gpu.destroy();
