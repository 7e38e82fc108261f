// `grpo-playground sweep --spec FILE.json --out DIR [--steps N]`: the spec's runs (every arm × seed, one
// after another, on the same model and data) each trained exactly as `train --out DIR/runs/NAME` trains
// it (the same files: config.json, metrics.jsonl, adapter, checkpoint), then DIR/summary.json,
// DIR/summary.csv and DIR/report.html from the runs' own metrics. A run already finished in DIR is kept,
// so an interrupted sweep continues where it stopped.

import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { expandSweep, parseSweepSpec, type SweepSpec } from '../experiments/spec';
import { runStats, summarize, summaryToCsv, formatStat, type Row, type RunStats } from '../experiments/summary';
import { reportHtml } from '../experiments/report';
import { numberOpt, parse, requireString, UsageError } from './args';
import { trainCommand } from './train';

/** A path from the spec: as given when it exists from here, else beside the spec file. */
function specPath(p: string, specFile: string): string {
  if (isAbsolute(p) || existsSync(p)) return p;
  const beside = resolve(dirname(specFile), p);
  return existsSync(beside) ? beside : p;
}

export async function readRunRows(dir: string): Promise<Row[]> {
  const text = await readFile(join(dir, 'metrics.jsonl'), 'utf8');
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Row);
}

export async function sweepCommand(argv: string[]): Promise<void> {
  const v = parse(argv, { spec: { type: 'string' }, out: { type: 'string' }, steps: { type: 'string' }, quiet: { type: 'boolean' } });
  const specFile = requireString(v, 'spec');
  const outDir = requireString(v, 'out');
  let text: string;
  try {
    text = await readFile(specFile, 'utf8');
  } catch {
    throw new Error(`${specFile}: sweep spec not found`);
  }
  const spec: SweepSpec = parseSweepSpec(text, specFile);
  const steps = v.steps === undefined ? undefined : numberOpt(v, 'steps', 0, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
  const runs = expandSweep(spec, {}, steps);
  const model = specPath(spec.model, specFile);
  const dataset = specPath(spec.dataset, specFile);
  const evalDataset = spec.eval_dataset ? specPath(spec.eval_dataset, specFile) : null;
  if (!existsSync(model)) throw new UsageError(`${specFile}: model ${spec.model} not found (from here or beside the spec)`);
  if (!existsSync(dataset)) throw new UsageError(`${specFile}: dataset ${spec.dataset} not found (from here or beside the spec)`);
  if (evalDataset && !existsSync(evalDataset)) throw new UsageError(`${specFile}: eval_dataset ${spec.eval_dataset} not found`);
  const say = (s: string) => process.stdout.write(s + '\n');
  await mkdir(join(outDir, 'runs'), { recursive: true });
  await writeFile(join(outDir, 'spec.json'), JSON.stringify({ ...spec, ...(steps ? { steps } : {}) }, null, 2) + '\n');
  say(`sweep ${spec.name}: ${runs.length} runs (${new Set(runs.map((r) => r.arm)).size} arms x ${spec.seeds.length} seeds), ${runs[0].config.max_steps} steps each, on ${model} and ${dataset}${evalDataset ? ` (held out: ${evalDataset})` : ''}`);
  const stats: RunStats[] = [];
  for (const [i, run] of runs.entries()) {
    const dir = join(outDir, 'runs', run.name);
    const infoPath = join(dir, 'sweep_run.json');
    let wall: number | null = null;
    const done = existsSync(join(dir, 'adapter_model.safetensors')) && existsSync(infoPath) &&
      (await readRunRows(dir).catch(() => [] as Row[])).some((r) => r.step === run.config.max_steps);
    if (done) {
      wall = (JSON.parse(await readFile(infoPath, 'utf8')) as { wall_time_s: number | null }).wall_time_s;
      say(`[${i + 1}/${runs.length}] ${run.name}: already finished in ${dir}, kept`);
    } else {
      say(`[${i + 1}/${runs.length}] ${run.name} (arm ${run.arm}, seed ${run.seed})`);
      await mkdir(dir, { recursive: true });
      const configPath = join(dir, 'config.json');
      await writeFile(configPath, JSON.stringify(run.config, null, 2) + '\n');
      const t0 = performance.now();
      await trainCommand(['--model', model, '--dataset', dataset, ...(evalDataset ? ['--eval-dataset', evalDataset] : []), '--config', configPath, '--out', dir, ...(v.quiet ? ['--quiet'] : [])]);
      wall = (performance.now() - t0) / 1000;
      await writeFile(infoPath, JSON.stringify({ name: run.name, arm: run.arm, value: run.value, seed: run.seed, wall_time_s: wall }, null, 2) + '\n');
    }
    const s = runStats(run.name, run.arm, run.seed, await readRunRows(dir), wall);
    stats.push(s);
    say(`  ${run.name}: pass@1 ${s.pass_before ?? '-'} -> ${s.pass_last ?? '-'} (best ${s.pass_best ?? '-'}), reward (last ${10} steps) ${s.reward_final?.toFixed(3) ?? '-'}, ${s.wall_time_s?.toFixed(1) ?? '-'} s`);
  }
  const arms = [...new Map(runs.map((r) => [r.arm, { arm: r.arm, value: r.value }])).values()];
  const summary = summarize(spec.name, arms, stats);
  await writeFile(join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  await writeFile(join(outDir, 'summary.csv'), summaryToCsv(summary));
  const reportRuns = await Promise.all(runs.map(async (r) => ({ name: r.name, config: r.config as unknown as Record<string, unknown>, rows: await readRunRows(join(outDir, 'runs', r.name)) })));
  await writeFile(join(outDir, 'report.html'), reportHtml({ title: `Sweep: ${spec.name}`, summary, runs: reportRuns, spec, generatedAt: new Date().toISOString(), source: `${model}, ${dataset}` }));
  say(`\nsummary (mean ± std over ${spec.seeds.length} seed${spec.seeds.length === 1 ? '' : 's'}):`);
  for (const a of summary.arms) {
    say(`  ${a.arm.padEnd(24)} pass@1 last ${formatStat(a.pass_last)}  best ${formatStat(a.pass_best)}  reward ${formatStat(a.reward_final)}  kl ${formatStat(a.kl_final, 4)}  train ${formatStat(a.train_time_s, 1)} s`);
  }
  say(`wrote ${join(outDir, 'summary.json')}, summary.csv, report.html and runs/ (${runs.length} runs)`);
}
