// `npm run demo:report`: measures the demo from the command line, with the same engine and trainer as the
// page: the built-in model, a demo dataset and the demo's default GRPO config (src/demo/builtin.ts).
// Evaluates pass@1 on the eval split (decoded as the config's eval_temperature says: the demo samples at the
// training temperature) and greedy accuracy before training and every --eval-every steps, then writes
// docs/demo/report.json (before/after, reward and accuracy curves, steps, wall time, adapter), config.json and
// docs/demo/curves.png (the chart, rendered as SVG and screenshotted with Chromium).
// `--demo calculator` measures the calculator demo instead: the tiny-calculator model with its calc tool
// (every evaluation runs the same tool-using episodes as training; the model is also measured without the
// tool before and after), written to docs/demo/calculator/ with the tool metrics added.
//
// `--demo dpo` measures the preference demo (scripts/demo_report_dpo.ts), written to docs/demo/dpo/.
// `--demo reward-model` measures the RLHF demo (scripts/demo_report_reward_model.ts), written to docs/demo/reward_model/.
//
//   node bin/run-ts.mjs scripts/demo_report.ts [--demo calculator | --demo dpo | --dataset addition] [--steps N] [--eval-every N] [--out docs/demo]

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { acquireNodeGpu } from '../src/gpu/node';
import { loadModelFromPath } from '../src/model/load_node';
import { GpuTransformer } from '../src/model/transformer';
import { parseDatasetBytes, splitDataset } from '../src/data';
import { validateConfig } from '../src/grpo/config';
import { createRewardScorer } from '../src/grpo/rewards_scorer';
import { preparePrompts } from '../src/grpo/prompts';
import { GrpoTrainer, type EvalReport } from '../src/grpo/trainer';
import { builtinModel, DEFAULT_DEMO_DATASET_ID, DEMO_DATASETS, demoConfig } from '../src/demo/builtin';
import { createRolloutTools } from '../src/grpo/tools/setup';
import { curvesSvg } from '../src/demo/chart';

const { values: args } = parseArgs({
  options: {
    /** a demo dataset id; "calculator" also picks its model and writes to docs/demo/calculator */
    demo: { type: 'string' },
    dataset: { type: 'string' },
    model: { type: 'string' },
    steps: { type: 'string' },
    'eval-every': { type: 'string' },
    out: { type: 'string' },
    /** another JSONL file of the same task instead of the demo dataset's */
    data: { type: 'string' },
    'no-png': { type: 'boolean', default: false },
    /** draw curves.svg/curves.png again from an existing report.json in --out, without training */
    'chart-only': { type: 'boolean', default: false },
    /** JSON object of config fields to change, e.g. '{"learning_rate": 0.001}' */
    override: { type: 'string' },
    /** --demo reward-model: reward-model training steps, and which GRPO runs (single,ensemble) */
    'rm-steps': { type: 'string' },
    runs: { type: 'string' },
    stage: { type: 'string' },
  },
});

// the preference demo (DPO on pairs of the reverse demo's prompts): scripts/demo_report_dpo.ts
if (args.demo === 'dpo') {
  const { dpoDemoReport } = await import('./demo_report_dpo');
  await dpoDemoReport(args);
  process.exit(0);
}
// the RLHF demo (reward models trained on the pairs, then GRPO driven by them): scripts/demo_report_reward_model.ts
if (args.demo === 'reward-model') {
  const { rewardModelDemoReport } = await import('./demo_report_reward_model');
  await rewardModelDemoReport(args);
  process.exit(0);
}
if (args.demo && args.dataset && args.demo !== args.dataset) throw new Error(`--demo ${args.demo} and --dataset ${args.dataset} disagree; give one`);
const datasetId = args.demo ?? args.dataset ?? DEFAULT_DEMO_DATASET_ID;
const ds = DEMO_DATASETS.find((d) => d.id === datasetId);
if (!ds) throw new Error(`unknown demo ${datasetId}; choose one of ${DEMO_DATASETS.map((d) => d.id).join(', ')}`);
const outDir = args.out ?? (ds.tools ? join('docs/demo', ds.id) : 'docs/demo');
const modelPath = args.model ?? join('public', builtinModel(ds.model).path);

if (args['chart-only']) {
  const saved = JSON.parse(await readFile(join(outDir, 'report.json'), 'utf8'));
  await writeChart(saved, outDir);
  process.exit(0);
}

const config = demoConfig(ds.id);
// --steps N stops after N steps of the demo's run: the learning-rate schedule still spans the config's
// max_steps (a cosine schedule over N steps would decay sooner), so the first N steps are those of the full run
const steps = args.steps ? Number(args.steps) : config.max_steps;
if (!(Number.isInteger(steps) && steps >= 1 && steps <= config.max_steps)) throw new Error(`--steps must be a whole number from 1 to the demo's ${config.max_steps}, got ${args.steps}`);
if (args['eval-every']) config.eval_interval = Number(args['eval-every']);
if (args.override) Object.assign(config, JSON.parse(args.override));

const t0 = performance.now();
const loaded = await loadModelFromPath(modelPath);
const problems = validateConfig(config, { maxSequenceLength: loaded.config.maxPositionEmbeddings });
if (problems.length) throw new Error(`demo config: ${problems.join('; ')}`);
const dataPath = args.data ?? join('public', ds.path);
const bytes = await readFile(dataPath);
const parsed = parseDatasetBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), dataPath);
const split = splitDataset(parsed.rows, config.eval_split, config.seed);
const train = preparePrompts(split.train, loaded, config).examples;
const evalSet = preparePrompts(split.eval, loaded, config).examples;
const evalN = Math.min(evalSet.length, config.eval_max_samples);

const gpu = await acquireNodeGpu();
const adapter = gpu.describe();
const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
const params = [...loaded.weights.values()].reduce((a, t) => a + t.data.length, 0);
console.log(`model ${loaded.name} (${params} parameters), ${dataPath}: ${train.length} train / ${evalSet.length} eval prompts (evaluating ${evalN}); adapter: ${adapter}`);
console.log(`config: ${config.max_steps} steps, ${config.prompts_per_step} prompts x ${config.num_generations} generations, lr ${config.learning_rate}, LoRA r ${config.lora_r} on ${config.lora_target_modules.join(',')}`);

const tools = ds.tools ? await createRolloutTools(config, loaded) : null;
if (tools) console.log(`tools: ${tools.setup.runner.tools.map((t) => t.name).join(', ')} (call format ${tools.setup.format.name})`);
const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: evalSet, scorer, tools });
type PassPoint = { step: number; 'pass@1': number; greedy: number; reward_mean: number; n: number; seconds: number; tool_call_frequency?: number; greedy_tool_call_frequency?: number };
const passCurve: PassPoint[] = [];
const sampled = config.eval_temperature > 0;
const passLabel = sampled ? `sampled at temperature ${config.eval_temperature}` : 'greedy';
type RewardPoint = { step: number; reward: number; reward_std: number; frac_reward_zero_std: number; kl: number; step_time: number; 'tools/call_frequency'?: number; 'tools/failure_frequency'?: number };
const rewardCurve: RewardPoint[] = [];
// with tools: the model on its own (no tool runs; its text after a call is its own), before and after
const withoutTools: { step: number; 'pass@1': number; n: number }[] = [];
const evaluateWithoutTools = async () => {
  const e = await trainer.evaluate(evalN, config.eval_temperature, false);
  withoutTools.push({ step: e.step, 'pass@1': e['pass@1'], n: e.n });
  console.log(`eval without the tool @ step ${e.step}: pass@1 ${(e['pass@1'] * 100).toFixed(1)}% (${passLabel})`);
};
let trainSeconds = 0;
const evals: EvalReport[] = [];
const evaluate = async () => {
  const e = await trainer.evaluate(evalN);
  const g = sampled ? await trainer.evaluate(evalN, 0) : e;
  evals.push(e);
  passCurve.push({
    step: e.step, 'pass@1': e['pass@1'], greedy: g['pass@1'], reward_mean: e.reward_mean, n: e.n, seconds: (performance.now() - t0) / 1000,
    ...(e.tools && g.tools ? { tool_call_frequency: e.tools.call_frequency, greedy_tool_call_frequency: g.tools.call_frequency } : {}),
  });
  console.log(`eval @ step ${e.step}: pass@1 ${(e['pass@1'] * 100).toFixed(1)}% (${passLabel}), greedy ${(g['pass@1'] * 100).toFixed(1)}%  (n=${e.n})${e.tools ? `  tool calls per completion ${e.tools.call_frequency.toFixed(2)}` : ''}  ${((performance.now() - t0) / 1000).toFixed(0)}s`);
};
if (tools) await evaluateWithoutTools();
await evaluate();
for (let s = 1; s <= steps; s++) {
  const r = await trainer.trainStep();
  const m = r.metrics;
  trainSeconds += m.step_time;
  rewardCurve.push({
    step: s, reward: m.reward, reward_std: m.reward_std, frac_reward_zero_std: m.frac_reward_zero_std, kl: m.kl, step_time: m.step_time,
    ...(tools ? { 'tools/call_frequency': m['tools/call_frequency'], 'tools/failure_frequency': m['tools/failure_frequency'] } : {}),
  });
  if (s % 10 === 0) console.log(`step ${s}/${steps}  reward ${m.reward.toFixed(3)}${tools ? `  tool calls ${m['tools/call_frequency'].toFixed(2)}` : ''}  ${m.step_time.toFixed(2)}s/step`);
  if (s === steps || (config.eval_interval > 0 && s % config.eval_interval === 0)) await evaluate();
}
if (tools) await evaluateWithoutTools();
const wall = (performance.now() - t0) / 1000;
trainer.release(); // stops the tools' sandbox worker too
scorer.dispose();
model.release();
gpu.destroy();

const before = passCurve[0];
const after = passCurve[passCurve.length - 1];
const best = passCurve.reduce((a, b) => (b['pass@1'] > a['pass@1'] ? b : a));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const sampleOf = (e: EvalReport) => e.samples.slice(0, 8).map((s) => ({ prompt: s.prompt, answer: s.answer, completion: s.completion, pass: s.pass, ...(s.toolCalls !== undefined ? { tool_calls: s.toolCalls } : {}) }));
const report = {
  model: { name: loaded.name, path: modelPath, parameters: params },
  dataset: { id: ds.id, path: dataPath, train_prompts: train.length, eval_prompts: evalSet.length, evaluated: evalN },
  adapter,
  config,
  steps,
  wall_time_s: Math.round(wall),
  train_time_s: Math.round(trainSeconds),
  pass_at_1_decoding: passLabel,
  before: { step: before.step, 'pass@1': before['pass@1'], greedy: before.greedy, n: before.n },
  after: { step: after.step, 'pass@1': after['pass@1'], greedy: after.greedy, n: after.n },
  lift_points: Math.round((after['pass@1'] - before['pass@1']) * 1000) / 10,
  best: { step: best.step, 'pass@1': best['pass@1'] },
  pass_at_1_curve: passCurve,
  reward_curve: rewardCurve,
  samples_before: sampleOf(evals[0]),
  samples_after: sampleOf(evals[evals.length - 1]),
  ...(tools
    ? {
      tools: tools.setup.runner.tools.map((t) => t.name),
      // pass@1 (decoded as pass_at_1_decoding) of the model on its own, without the tool running
      without_tools: { before: withoutTools[0], after: withoutTools[withoutTools.length - 1] },
      tool_call_frequency: { before: before.tool_call_frequency, after: after.tool_call_frequency },
    }
    : {}),
};
await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
// the run's config as the command line reads it (npx grpo-playground train --config docs/demo/config.json)
await writeFile(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
console.log(`held-out pass@1 (${passLabel}): before ${pct(before['pass@1'])}, after ${after.step} steps ${pct(after['pass@1'])} (${report.lift_points >= 0 ? '+' : ''}${report.lift_points} points); ` +
  `greedy ${pct(before.greedy)} → ${pct(after.greedy)}; ` +
  `wall time ${wall.toFixed(0)}s (${(wall / 60).toFixed(1)} min) on ${adapter}`);

if (report.without_tools) {
  console.log(`without the tool: pass@1 ${pct(report.without_tools.before['pass@1'])} before, ${pct(report.without_tools.after['pass@1'])} after; ` +
    `tool calls per completion ${report.tool_call_frequency.before?.toFixed(2)} → ${report.tool_call_frequency.after?.toFixed(2)}`);
}
if (!args['no-png']) await writeChart(report, outDir);

/** curves.svg and curves.png of a report (the SVG screenshotted in Chromium). */
async function writeChart(r: typeof report, out: string): Promise<void> {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const c = r.config;
  const ds = DEMO_DATASETS.find((d) => d.id === r.dataset.id);
  const svg = curvesSvg({
    title: `GRPO on the built-in ${r.model.name} model (${(r.model.parameters / 1e6).toFixed(2)}M parameters): ${ds?.name ?? r.dataset.id}`,
    subtitle: `held-out pass@1 ${pct(r.before['pass@1'])} → ${pct(r.after['pass@1'])} in ${r.steps} steps ` +
      `(${c.prompts_per_step} prompts × ${c.num_generations} completions per step, LoRA r=${c.lora_r}), ` +
      `${(r.wall_time_s / 60).toFixed(1)} min on ${r.adapter.replace(/ \(max buffer.*\)$/, '')}`,
    rewards: r.reward_curve.map((x) => ({ step: x.step, reward: x.reward })),
    passAt1: r.pass_at_1_curve.map((p) => ({ step: p.step, pass: p['pass@1'] })),
    passLabel: r.pass_at_1_decoding,
    ...(r.pass_at_1_decoding !== 'greedy' ? { greedy: r.pass_at_1_curve.map((p) => ({ step: p.step, pass: p.greedy })) } : {}),
    rewardLabel: `mean reward (${c.reward_funcs.map((f) => f.name).join(' + ')}, 0 to 1)`,
    smooth: 20,
    ...(r.reward_curve.some((x) => x['tools/call_frequency'] !== undefined)
      ? { toolCalls: r.reward_curve.map((x) => ({ step: x.step, rate: x['tools/call_frequency'] ?? 0 })) }
      : {}),
  });
  await writeFile(join(out, 'curves.svg'), svg + '\n');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 520 } });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.screenshot({ path: join(out, 'curves.png'), clip: { x: 0, y: 0, width: 1200, height: 520 } });
  } finally {
    await browser.close();
  }
  console.log(`wrote ${join(out, 'report.json')}, curves.svg, curves.png`);
}
