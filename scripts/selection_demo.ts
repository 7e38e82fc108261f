// Issue 29's measurement: on reverse4 (the built-in model's harder demo), does a pass-rate band from a difficulty
// scan plus DAPO's refill reach the plain run's held-out pass@1 in fewer generated tokens? Both runs from the CLI,
// the same seed and demo config; the selected run's tokens include its scan's.
//   node bin/run-ts.mjs scripts/selection_demo.ts [--steps N (300)] [--k K (4)] [--out DIR (docs/demo/selection)]
// Writes DIR/report.json: each run's eval/pass@1 by step with cumulative generated tokens, and the tokens each
// needed to first reach the plain run's final pass@1.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { demoConfig } from '../src/demo/builtin';

const { values } = parseArgs({ options: { steps: { type: 'string' }, k: { type: 'string' }, out: { type: 'string' } } });
const steps = Number(values.steps ?? 300);
const k = Number(values.k ?? 4);
const out = values.out ?? 'docs/demo/selection';
mkdirSync(out, { recursive: true });
const MODEL = 'public/models/tiny-puzzles';
const DATA = 'public/datasets/reverse4.jsonl';

function cli(args: string[]): string {
  const t = Date.now();
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`grpo-playground ${args[0]} failed: ${r.stderr}`);
  process.stdout.write(`${args[0]}: ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
  return r.stdout;
}

const base = { ...demoConfig('reverse4'), max_steps: steps };
const plainCfg = join(out, 'config_plain.json');
const selCfg = join(out, 'config_selected.json');
writeFileSync(plainCfg, JSON.stringify(base, null, 2) + '\n');
writeFileSync(selCfg, JSON.stringify({ ...base, pass_rate_band: '(0, 1)', dynamic_sampling: true, max_resample_rounds: 4 }, null, 2) + '\n');

interface Point { step: number; pass1: number; tokens: number }
function curve(dir: string, extraTokens: number): Point[] {
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  return lines.filter((m) => m['eval/pass@1'] !== undefined).map((m) => ({ step: m.step, pass1: m['eval/pass@1'], tokens: extraTokens + (m.num_generated_tokens ?? 0) }));
}

const t0 = Date.now();
cli(['train', '--model', MODEL, '--dataset', DATA, '--config', plainCfg, '--out', join(out, 'run_plain'), '--quiet']);
const scanFile = join(out, 'scan.jsonl');
const scanOut = cli(['scan', '--model', MODEL, '--dataset', DATA, '--config', plainCfg, '--k', String(k), '--train-only', '--out', scanFile]);
const scanTokens = Number(/(\d+) completion tokens generated/.exec(scanOut)?.[1] ?? NaN);
const trainOut = cli(['train', '--model', MODEL, '--dataset', DATA, '--config', selCfg, '--scan', scanFile, '--out', join(out, 'run_selected')]);
const kept = /\d+ of \d+ training prompts kept[^\n]*/.exec(trainOut)?.[0] ?? '';

const plain = curve(join(out, 'run_plain'), 0);
const selected = curve(join(out, 'run_selected'), scanTokens);
const target = plain[plain.length - 1].pass1;
const reach = (c: Point[]) => c.find((p) => p.pass1 >= target - 1e-9) ?? null;
const report = {
  dataset: DATA, model: MODEL, steps, scan_k: k, seed: base.seed,
  selected_config: { pass_rate_band: '(0, 1)', dynamic_sampling: true, max_resample_rounds: 4 },
  scan_tokens: scanTokens, scan_summary: scanOut.trim().split('\n').pop(), kept,
  target_pass1: target,
  plain: { curve: plain, reaches_target: reach(plain) },
  selected: { curve: selected, reaches_target: reach(selected), final_pass1: selected[selected.length - 1].pass1 },
  wall_seconds: (Date.now() - t0) / 1000,
};
writeFileSync(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
process.stdout.write(JSON.stringify({ target_pass1: target, plain: report.plain.reaches_target, selected: report.selected.reaches_target, scan_tokens: scanTokens, kept }) + '\n');
