// `npm run demo:report -- --demo dpo`: the preference demo on the built-in tiny-puzzles model. The reverse
// demo's prompts (never in the pretraining corpus) become pairs: the right reversal (chosen) against the
// slipped one the corpus taught the model as a habit, its last two letters swapped (rejected); prompts
// whose slip is the same string are left out. The held-out prompts are the GRPO demo's own eval split.
// DPO (sigmoid, beta 0.1, with the sft term) from the demo's config trains on the training pairs; every --eval-every steps
// it measures held-out greedy accuracy (exact match) and held-out pair accuracy (the chosen reversal's
// implicit reward above the slipped one's), and writes docs/demo/dpo/report.json, config.json and
// curves.svg / curves.png (the chart rendered in Chromium).
//
//   node bin/run-ts.mjs scripts/demo_report.ts --demo dpo [--steps N] [--eval-every N] [--out docs/demo/dpo] [--no-png]

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { acquireNodeGpu } from '../src/gpu/node';
import { loadModelFromPath } from '../src/model/load_node';
import { GpuTransformer } from '../src/model/transformer';
import { parameterCount } from '../src/model/weight_storage';
import { parseDatasetBytes, splitDataset, type DatasetRow } from '../src/data';
import { validateConfig, type GrpoConfig } from '../src/grpo/config';
import { createRewardScorer } from '../src/grpo/rewards_scorer';
import { evaluatePrompts } from '../src/grpo/evaluate';
import { preparePreference } from '../src/grpo/preference/data';
import { PreferenceTrainer } from '../src/grpo/preference/trainer';
import { builtinModel, DEMO_DATASETS, demoConfig } from '../src/demo/builtin';
import { slipped } from '../src/demo/preference';

export { slipped };

export interface DpoDemoArgs {
  steps?: string;
  'eval-every'?: string;
  out?: string;
  'no-png'?: boolean;
  /** draw curves.svg/curves.png again from report.json in --out, without training */
  'chart-only'?: boolean;
}

/** The demo's preference config: the reverse demo's, with DPO's loss (src/demo/preference.ts). */
export function dpoDemoConfig(): GrpoConfig {
  return demoConfig('reverse_pairs');
}

export async function dpoDemoReport(args: DpoDemoArgs): Promise<void> {
  const ds = DEMO_DATASETS.find((d) => d.id === 'reverse')!;
  const outDir = args.out ?? 'docs/demo/dpo';
  if (args['chart-only']) {
    await writeChart(JSON.parse(await readFile(join(outDir, 'report.json'), 'utf8')) as Report, outDir);
    return;
  }
  const config = dpoDemoConfig();
  const steps = args.steps ? Number(args.steps) : config.max_steps;
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= config.max_steps)) throw new Error(`--steps must be a whole number from 1 to ${config.max_steps}`);
  if (args['eval-every']) config.eval_interval = Number(args['eval-every']);
  const t0 = performance.now();
  const loaded = await loadModelFromPath(join('public', builtinModel(ds.model).path));
  const problems = validateConfig(config, { maxSequenceLength: loaded.config.maxPositionEmbeddings });
  if (problems.length) throw new Error(`dpo demo config: ${problems.join('; ')}`);
  const bytes = await readFile(join('public', ds.path));
  const rows = parseDatasetBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), ds.path).rows;
  // the GRPO demo's split: the same held-out prompts
  const split = splitDataset(rows, config.eval_split, config.seed);
  const pairsOf = (xs: DatasetRow[]) => xs.filter((r) => slipped(r.answer) !== r.answer).map((r) => ({ ...r, rejected: slipped(r.answer) }));
  const train = preparePreference(pairsOf(split.train), loaded, config).examples;
  const heldPairs = preparePreference(pairsOf(split.eval), loaded, config).examples;
  const heldPrompts = preparePreference(split.eval.map((r) => ({ ...r, rejected: slipped(r.answer) })), loaded, config).examples
    .map((e) => e.prompt).slice(0, config.eval_max_samples);

  const gpu = await acquireNodeGpu();
  const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
  const adapter = gpu.describe();
  const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
  const trainer = new PreferenceTrainer({ gpu, model, config, train, eval: heldPairs });
  type Point = { step: number; greedy: number; pair_accuracy: number; margin: number; 'logps/chosen': number; 'logps/rejected': number };
  const curve: Point[] = [];
  const stepCurve: Record<string, number>[] = [];
  const measure = async (): Promise<Point> => {
    const pairs = await trainer.evaluatePairs();
    const e = await evaluatePrompts(model, loaded.tokenizer, trainer.lora, scorer, heldPrompts, config.max_completion_length, trainer.step, 32,
      { temperature: 0, topK: 0, topP: 1, seed: config.seed, kvPrecision: config.kv_precision });
    const p = {
      step: trainer.step, greedy: e['pass@1'], pair_accuracy: pairs['eval_rewards/accuracies'], margin: pairs['eval_rewards/margins'],
      'logps/chosen': pairs['eval_logps/chosen'], 'logps/rejected': pairs['eval_logps/rejected'],
    };
    console.log(`step ${p.step}: held-out greedy accuracy ${(p.greedy * 100).toFixed(1)}%  pair accuracy ${(p.pair_accuracy * 100).toFixed(1)}%  ` +
      `margin ${p.margin.toFixed(3)}  logps chosen ${p['logps/chosen'].toFixed(2)} rejected ${p['logps/rejected'].toFixed(2)}`);
    curve.push(p);
    return p;
  };
  try {
    const before = await measure();
    for (let s = 1; s <= steps; s++) {
      const { metrics: m } = await trainer.trainStep();
      stepCurve.push({ step: s, loss: m.loss, 'rewards/accuracies': m['rewards/accuracies'], 'rewards/margins': m['rewards/margins'], 'logps/chosen': m['logps/chosen'], 'logps/rejected': m['logps/rejected'] });
      if (s === steps || s % config.eval_interval === 0) await measure();
    }
    const after = curve[curve.length - 1];
    const wall = (performance.now() - t0) / 1000;
    const firstAt = (pred: (p: Point) => boolean) => curve.find(pred)?.step ?? null;
    const report = {
      demo: 'dpo',
      model: { name: loaded.name, parameters: parameterCount(loaded.config) },
      dataset: { id: ds.id, pairs_train: train.length, pairs_held_out: heldPairs.length, prompts_held_out: heldPrompts.length, rejected: 'the right reversal with its last two letters swapped (the corpus habit)' },
      config,
      steps,
      adapter,
      wall_time_s: Math.round(wall),
      before: { greedy: before.greedy, pair_accuracy: before.pair_accuracy },
      after: { step: after.step, greedy: after.greedy, pair_accuracy: after.pair_accuracy },
      lift_points: Math.round((after.greedy - before.greedy) * 1000) / 10,
      first_step_with_lift_25: firstAt((p) => p.greedy - before.greedy >= 0.25),
      first_step_with_pair_accuracy_90: firstAt((p) => p.pair_accuracy >= 0.9),
      held_out_curve: curve,
      train_curve: stepCurve,
    };
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    await writeFile(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    console.log(`held-out greedy accuracy ${(before.greedy * 100).toFixed(1)}% -> ${(after.greedy * 100).toFixed(1)}% (${report.lift_points >= 0 ? '+' : ''}${report.lift_points} points), ` +
      `pair accuracy ${(after.pair_accuracy * 100).toFixed(1)}% after ${steps} steps; wall time ${wall.toFixed(0)}s on ${adapter}`);
    if (!args['no-png']) await writeChart(report, outDir);
  } finally {
    trainer.release();
    scorer.dispose();
    gpu.destroy();
  }
}

type Report = { steps: number; held_out_curve: { step: number; greedy: number; pair_accuracy: number; 'logps/chosen': number; 'logps/rejected': number }[]; train_curve: Record<string, number>[]; lift_points: number };

/** Two panels: held-out greedy and pair accuracy; the training batches' chosen and rejected log-probs. */
async function writeChart(r: Report, out: string): Promise<void> {
  const W = 1200;
  const H = 540;
  const panel = (x0: number, title: string, yLabel: string, yMin: number, yMax: number, series: { color: string; name: string; pts: [number, number][] }[]) => {
    const w = 480;
    const h = 320;
    const y0 = 110;
    const sx = (s: number) => x0 + (s / Math.max(1, r.steps)) * w;
    const sy = (v: number) => y0 + h - ((v - yMin) / (yMax - yMin)) * h;
    const ticks = Array.from({ length: 6 }, (_, i) => yMin + ((yMax - yMin) * i) / 5);
    return [
      `<text x="${x0}" y="${y0 - 14}" font-size="17" font-weight="600">${title}</text>`,
      `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#ccc"/>`,
      ...ticks.map((t) => `<text x="${x0 - 8}" y="${sy(t) + 4}" font-size="12" text-anchor="end">${Math.abs(yMax - yMin) <= 1 ? `${Math.round(t * 100)}%` : t.toFixed(0)}</text>`),
      `<text x="${x0 + w / 2}" y="${y0 + h + 36}" font-size="13" text-anchor="middle">DPO step</text>`,
      `<text x="${x0 - 52}" y="${y0 + h / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 ${x0 - 52} ${y0 + h / 2})">${yLabel}</text>`,
      ...[0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${sx(f * r.steps)}" y="${y0 + h + 16}" font-size="12" text-anchor="middle">${Math.round(f * r.steps)}</text>`),
      ...series.map((s, i) => `<polyline fill="none" stroke="${s.color}" stroke-width="2.5" points="${s.pts.map(([a, b]) => `${sx(a).toFixed(1)},${sy(Math.min(yMax, Math.max(yMin, b))).toFixed(1)}`).join(' ')}"/>` +
        `<line x1="${x0 + 10 + 250 * i}" y1="${y0 + h + 61}" x2="${x0 + 34 + 250 * i}" y2="${y0 + h + 61}" stroke="${s.color}" stroke-width="3"/>` +
        `<text x="${x0 + 40 + 250 * i}" y="${y0 + h + 66}" font-size="13" fill="${s.color}">${s.name}</text>`),
    ].join('\n');
  };
  const c = r.held_out_curve;
  const lo = Math.floor(Math.min(...r.train_curve.map((x) => Math.min(x['logps/chosen'], x['logps/rejected'])), 0) / 5) * 5;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><rect width="${W}" height="${H}" fill="#fff"/>
<text x="40" y="30" font-size="20" font-weight="600">DPO on the built-in tiny-puzzles model: right reversal vs the habitual slipped one</text>
<text x="40" y="56" font-size="14" fill="#555">held-out greedy accuracy ${(c[0].greedy * 100).toFixed(0)}% -> ${(c[c.length - 1].greedy * 100).toFixed(0)}% (${r.lift_points >= 0 ? '+' : ''}${r.lift_points} points), pair accuracy ${(c[c.length - 1].pair_accuracy * 100).toFixed(0)}% after ${r.steps} steps</text>
${panel(100, 'Held-out prompts never trained on', 'accuracy', 0, 1, [
  { color: '#1f5fbf', name: 'greedy accuracy (exact match)', pts: c.map((p) => [p.step, p.greedy]) },
  { color: '#2b8a3e', name: 'pair accuracy (chosen reward > rejected)', pts: c.map((p) => [p.step, p.pair_accuracy]) },
])}
${panel(690, 'Training batches: summed log-probs', 'log-prob', lo, 0, [
  { color: '#2b8a3e', name: 'logps/chosen', pts: r.train_curve.map((x) => [x.step, x['logps/chosen']]) },
  { color: '#d9480f', name: 'logps/rejected', pts: r.train_curve.map((x) => [x.step, x['logps/rejected']]) },
])}
</svg>`;
  await writeFile(join(out, 'curves.svg'), svg + '\n');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: W, height: H } });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.screenshot({ path: join(out, 'curves.png'), clip: { x: 0, y: 0, width: W, height: H } });
  } finally {
    await browser.close();
  }
  console.log(`wrote ${join(out, 'report.json')}, curves.svg, curves.png`);
}
