// Issue 29's measurement: on reverse4 (the built-in model's harder demo), does a pass-rate band from a difficulty
// scan plus DAPO's refill reach the plain run's held-out pass@1 in fewer generated tokens? Every run from the CLI,
// the demo config, the same seed and the same eval schedule for the plain run and each arm; an arm's tokens
// include its scan's (eval completions are not training tokens and are counted by neither).
//   node bin/run-ts.mjs scripts/selection_demo.ts [--steps N (100)] [--seeds 42,43] [--eval-interval N (10)]
//     [--arm NAME:K:BAND:ROUNDS[:STEPS]]... (default: the arm reported in docs/demo/selection) [--out DIR (docs/demo/selection)]
//     [--runs DIR (scratch_selection)] [--reuse] [--partial] [--eval-samples N (1)]
// An arm is a scan of K completions per training prompt, pass_rate_band BAND (interval notation) and
// dynamic_sampling with max_resample_rounds ROUNDS, e.g. --arm "k2_lo:2:(0, 1]:1", trained for STEPS optimizer
// steps (default --steps: an arm has lost once its tokens pass the plain run's, so it may stop sooner). --reuse takes a run folder or
// scan already under --runs whose config is the one this invocation would write (runs are deterministic for a
// seed), so that arms measured one at a time are reported together; --partial (with --reuse) reports such a run
// even if it has not finished (its last step is reported, and "finished": false). --eval-samples N evaluates every held-out
// prompt N times (num_generations_eval; eval/pass@1 is then the mean over the N samples: less noise between
// evaluations, the same prompts).
// Writes DIR/report.json: per seed, the plain run's final pass@1 (the target) and for every run its eval/pass@1 by
// step with cumulative generated tokens, the tokens it needed to first reach the target, and where its tokens went
// (refill rounds, groups generated, groups without a reward spread); DIR/config_plain.json, DIR/config_<arm>.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { demoConfig } from '../src/demo/builtin';
import { parseBand } from '../src/grpo/difficulty';

/** The arms in docs/demo/selection/report.json: a k = 2 scan, the band that drops the prompts it never saw solved,
 * with one refill round (issue 29's candidate) and without refill (where the refill's tokens go). */
const DEFAULT_ARMS = ['k2_drop_unsolved_r1:2:(0, 1]:1:80', 'k2_drop_unsolved_r0:2:(0, 1]:0:80'];

const { values } = parseArgs({
  options: {
    steps: { type: 'string' }, seeds: { type: 'string' }, 'eval-interval': { type: 'string' },
    arm: { type: 'string', multiple: true }, out: { type: 'string' }, runs: { type: 'string' }, reuse: { type: 'boolean' }, partial: { type: 'boolean' },
    'eval-samples': { type: 'string' },
  },
});
const steps = Number(values.steps ?? 100);
const seeds = (values.seeds ?? '42,43').split(',').map(Number);
const evalInterval = Number(values['eval-interval'] ?? 10);
const out = values.out ?? 'docs/demo/selection';
const runsDir = values.runs ?? 'scratch_selection';
const reuse = !!values.reuse || !!values.partial;
const partial = !!values.partial;
const evalSamples = Number(values['eval-samples'] ?? 1);
if (!Number.isInteger(evalSamples) || evalSamples < 1) throw new Error('--eval-samples takes a whole number of at least 1');
if (!Number.isInteger(steps) || steps < 1 || seeds.some((s) => !Number.isInteger(s)) || !Number.isInteger(evalInterval) || evalInterval < 1) {
  throw new Error('--steps, --seeds and --eval-interval take whole numbers');
}

interface Arm { name: string; k: number; band: string; rounds: number; steps: number }
const arms: Arm[] = (values.arm ?? DEFAULT_ARMS).map((a) => {
  const [name, k, band, rounds, armSteps] = a.split(':');
  const arm = { name, k: Number(k), band, rounds: Number(rounds), steps: armSteps === undefined ? steps : Number(armSteps) };
  if (!/^[\w-]+$/.test(name ?? '') || !Number.isInteger(arm.k) || arm.k < 1 || typeof parseBand(band ?? '') === 'string' || !Number.isInteger(arm.rounds) || arm.rounds < 0 || !Number.isInteger(arm.steps) || arm.steps < 1) {
    throw new Error(`--arm ${JSON.stringify(a)}: write NAME:K:BAND:ROUNDS, e.g. "k2:2:(0, 1]:1"`);
  }
  return arm;
});
mkdirSync(out, { recursive: true });
mkdirSync(runsDir, { recursive: true });
const MODEL = 'public/models/tiny-puzzles';
const DATA = 'public/datasets/reverse4.jsonl';

function cli(args: string[]): string {
  const t = Date.now();
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`grpo-playground ${args[0]} failed: ${r.stderr}`);
  process.stdout.write(`${args.slice(0, 1).concat(args.filter((x) => x.startsWith(runsDir))).join(' ')}: ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
  return r.stdout;
}

const base = (seed: number) => ({
  ...demoConfig('reverse4'), max_steps: steps, seed, eval_interval: evalInterval,
  ...(evalSamples > 1 ? { num_generations_eval: evalSamples } : {}),
});
const armConfig = (a: Arm, seed: number) => ({ ...base(seed), max_steps: a.steps, pass_rate_band: a.band, dynamic_sampling: true, max_resample_rounds: a.rounds });
// the configs recorded beside the report: seed 42's (another seed changes only "seed")
writeFileSync(join(out, 'config_plain.json'), JSON.stringify(base(seeds[0]), null, 2) + '\n');
for (const a of arms) writeFileSync(join(out, `config_${a.name}.json`), JSON.stringify(armConfig(a, seeds[0]), null, 2) + '\n');

type M = Record<string, number>;
const canonical = (o: object): string => JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))));
const readMetrics = (dir: string): M[] => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as M);
/** A finished run of this config in dir (--reuse), or a fresh one. */
function train(dir: string, config: { max_steps: number }, extra: string[]): { metrics: M[]; log: string; wallSeconds: number | null } | null {
  const cfgPath = join(runsDir, `${dir}.json`);
  const runDir = join(runsDir, dir);
  const text = JSON.stringify(config, null, 2) + '\n';
  // the config train resolved and wrote beside its metrics, compared field by field
  const same = () => canonical(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'))) === canonical(config);
  if (reuse && existsSync(join(runDir, 'metrics.jsonl')) && existsSync(join(runDir, 'config.json')) && same()) {
    const metrics = readMetrics(runDir);
    if (partial || metrics.some((m) => m.step === config.max_steps && m['eval/pass@1'] !== undefined)) {
      return { metrics, log: existsSync(`${runDir}.log`) ? readFileSync(`${runDir}.log`, 'utf8') : '', wallSeconds: null };
    }
  }
  if (partial) return null; // --partial reports what is there and starts nothing
  writeFileSync(cfgPath, text);
  const t = Date.now();
  const log = cli(['train', '--model', MODEL, '--dataset', DATA, '--config', cfgPath, ...extra, '--out', runDir]);
  writeFileSync(`${runDir}.log`, log);
  return { metrics: readMetrics(runDir), log, wallSeconds: (Date.now() - t) / 1000 };
}
/** The scan of seed's training rows with k completions each (cached under --runs with its summary). */
function scan(seed: number, k: number): { file: string; tokens: number; summary: string; wallSeconds: number | null } {
  const file = join(runsDir, `scan_s${seed}_k${k}.jsonl`);
  const cfgPath = join(runsDir, `scan_s${seed}.json`);
  let text: string;
  let wallSeconds: number | null = null;
  if (reuse && existsSync(file) && existsSync(`${file}.log`)) text = readFileSync(`${file}.log`, 'utf8');
  else {
    writeFileSync(cfgPath, JSON.stringify(base(seed), null, 2) + '\n');
    const t = Date.now();
    text = cli(['scan', '--model', MODEL, '--dataset', DATA, '--config', cfgPath, '--k', String(k), '--train-only', '--out', file]);
    wallSeconds = (Date.now() - t) / 1000;
    writeFileSync(`${file}.log`, text);
  }
  const tokens = Number(/(\d+) completion tokens generated/.exec(text)?.[1] ?? NaN);
  if (!Number.isFinite(tokens)) throw new Error(`${file}.log: no token count`);
  return { file, tokens, summary: text.trim().split('\n').pop() ?? '', wallSeconds };
}

interface Point { step: number; pass1: number; tokens: number }
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
function summarize(metrics: M[], extraTokens: number, target: number | null, maxSteps: number) {
  const curve: Point[] = metrics.filter((m) => m['eval/pass@1'] !== undefined)
    .map((m) => ({ step: m.step, pass1: m['eval/pass@1'], tokens: extraTokens + (m.num_generated_tokens ?? 0) }));
  const trainSteps = metrics.filter((m) => m.step > 0 && m.reward !== undefined);
  const last = trainSteps[trainSteps.length - 1];
  const reaches = target === null ? null : curve.find((p) => p.pass1 >= target - 1e-9) ?? null;
  return {
    finished: curve[curve.length - 1]?.step === maxSteps,
    last_step: last?.step ?? 0,
    final_pass1: curve[curve.length - 1]?.pass1 ?? null,
    best_pass1: Math.max(...curve.map((p) => p.pass1)),
    reaches_target: reaches,
    training_tokens: last?.num_generated_tokens ?? 0,
    total_tokens: extraTokens + (last?.num_generated_tokens ?? 0),
    training_tokens_per_step: last ? last.num_generated_tokens / trainSteps.length : null,
    // where the tokens went: refill rounds per step, groups sampled per step (4 without refill), the share of the
    // first round's groups without a reward spread, and of the trained batch's
    mean_refill_rounds: mean(trainSteps.map((m) => m['dynamic_sampling/rounds']).filter((x) => x !== undefined)),
    groups_per_step: mean(trainSteps.map((m) => m['dynamic_sampling/groups_generated']).filter((x) => x !== undefined)),
    zero_spread_first_round: mean(trainSteps.map((m) => m['dynamic_sampling/zero_spread_before'] ?? m.frac_reward_zero_std).filter((x) => x !== undefined)),
    zero_spread_trained: mean(trainSteps.map((m) => m['dynamic_sampling/zero_spread_after'] ?? m.frac_reward_zero_std).filter((x) => x !== undefined)),
    mean_train_reward: mean(trainSteps.map((m) => m.reward)),
    curve,
  };
}

const t0 = Date.now();
const perSeed = seeds.map((seed) => {
  const plainRun = train(`plain_s${seed}`, base(seed), ['--quiet']);
  if (!plainRun) throw new Error(`--partial: no plain run of seed ${seed} under ${runsDir}`);
  const plain = summarize(plainRun.metrics, 0, null, steps);
  const target = plain.final_pass1!;
  const plainAt = summarize(plainRun.metrics, 0, target, steps);
  const runs = arms.flatMap((a) => {
    if (partial && !existsSync(join(runsDir, `scan_s${seed}_k${a.k}.jsonl.log`))) return [];
    const s = scan(seed, a.k);
    const r = train(`${a.name}_s${seed}`, armConfig(a, seed), ['--scan', s.file]);
    if (!r) return [];
    const kept = /\d+ of \d+ training prompts kept[^\n]*/.exec(r.log)?.[0] ?? '';
    const sum = summarize(r.metrics, s.tokens, target, a.steps);
    const plainTok = plainAt.reaches_target?.tokens ?? null;
    const armTok = sum.reaches_target?.tokens ?? null;
    return [{
      arm: a.name, scan_k: a.k, pass_rate_band: a.band, max_resample_rounds: a.rounds, steps: a.steps,
      scan_tokens: s.tokens, scan_summary: s.summary, kept,
      tokens_to_target_vs_plain: armTok !== null && plainTok !== null ? armTok / plainTok : null,
      ...sum, wall_seconds: { scan: s.wallSeconds, train: r.wallSeconds },
    }];
  });
  return { seed, target_pass1: target, plain: { ...plainAt, wall_seconds: plainRun.wallSeconds }, arms: runs };
});

// measured before this script took arms (commit d21ecd0, eval every 25 steps, seed 42; its scan's tokens counted
// without the stop token, fixed since: about 1.56k more at 1,560 completions of ~5 tokens)
const EARLIER = [{
  arm: 'k4_band_0_1_r4', scan_k: 4, pass_rate_band: '(0, 1)', max_resample_rounds: 4, steps: 100, eval_interval: 25, seed: 42,
  scan_tokens_as_counted: 6229, training_tokens: 18996, final_pass1: 0.2755102040816326, reaches_target: null,
  plain_final_pass1: 0.336734693877551, plain_tokens: 15999,
}];
const report = {
  dataset: DATA, model: MODEL, steps, eval_interval: evalInterval, eval_samples: evalSamples, seeds,
  earlier: EARLIER,
  eval: `eval/pass@1 on the seed's held-out split (eval_split 0.2, at most eval_max_samples prompts, ${evalSamples} sample${evalSamples > 1 ? 's' : ''} each at eval_temperature${evalSamples > 1 ? ', pass@1 the mean over them' : ''}); eval completions are not counted in num_generated_tokens`,
  arms: arms.map((a) => ({ name: a.name, scan_k: a.k, pass_rate_band: a.band, dynamic_sampling: true, max_resample_rounds: a.rounds, steps: a.steps })),
  per_seed: perSeed,
  // with --reuse / --partial, runs already there were read, not timed (their wall_seconds are null)
  reused_runs: reuse,
  wall_seconds: (Date.now() - t0) / 1000,
};
writeFileSync(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
for (const s of perSeed) {
  const p = s.plain.reaches_target;
  process.stdout.write(`seed ${s.seed}: target ${(s.target_pass1 * 100).toFixed(1)}%; plain reaches it at step ${p?.step} with ${p?.tokens} tokens\n`);
  for (const a of s.arms) {
    const r = a.reaches_target;
    process.stdout.write(`  ${a.arm}: ${r ? `step ${r.step}, ${r.tokens} tokens (scan ${a.scan_tokens})` : `not reached (final ${(a.final_pass1! * 100).toFixed(1)}%, ${a.total_tokens} tokens)`}\n`);
  }
}
