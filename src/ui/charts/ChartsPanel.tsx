// The live charts, in TRL's metric names: reward with its ±std band, each reward function, eval pass@1,
// KL, loss, clip ratios, entropy, completion lengths and the truncated share, gradient norm, learning
// rate, tool calls (with tools) and throughput. Every step stays in the store (for export); each chart draws at most MAX_POINTS.

import { useMemo } from 'react';
import { useAppStore } from '../store';
import { MetricChart, type ChartSpec } from './MetricChart';
import { downsampleRows, smoothRows, type Row } from './series';
import { OverlayCharts } from '../runs/OverlayCharts';
import { GapChart } from '../runs/GapChart';
import { PREFERENCE_SPECS, REWARD_MODEL_SPECS } from './preference_specs';
import { SFT_SPECS, SFT_TERM_SPEC } from './sft_specs';
import { selectionSpecs } from './selection_specs';

const MAX_POINTS = 400;

const PALETTE = ['#1f5fbf', '#d9480f', '#2b8a3e', '#7048e8', '#c2255c', '#0b7285', '#e67700'];

function specs(rewardNames: string[], beta: number, tools: boolean, preference = false, rewardModel = false, sft: 'run' | 'term' | null = null): ChartSpec[] {
  // supervised fine-tuning (algorithm "sft"): SFTTrainer's curves; no rollouts
  if (sft === 'run') return SFT_SPECS;
  if (rewardModel && rewardNames.length === 0) {
    // a reward model's training (algorithm reward_model): its pair accuracy and rewards, loss, gradient norm
    return [...REWARD_MODEL_SPECS, ...GRPO_SHARED.map((id) => specs([], beta, false).find((s) => s.id === id)!)];
  }
  if (preference && rewardNames.length === 0) {
    // offline preference training (DPO, SimPO, ORPO, KTO): no rollouts, so no reward, KL or length charts
    return [...PREFERENCE_SPECS, ...GRPO_SHARED.map((id) => specs([], beta, false).find((s) => s.id === id)!)];
  }
  return [
    {
      id: 'reward',
      title: 'Reward',
      unit: 'reward',
      series: [{ key: 'reward', name: 'mean', color: PALETTE[0] }],
      band: { lo: 'reward_lo', hi: 'reward_hi', name: '± std within groups', color: PALETTE[0] },
    },
    {
      id: 'reward-funcs',
      title: 'Reward by function',
      unit: 'mean reward',
      series: rewardNames.map((n, i) => ({ key: `rewards/${n}/mean`, name: n, color: PALETTE[(i + 1) % PALETTE.length] })),
    },
    ...(preference ? PREFERENCE_SPECS : []),
    { id: 'kl', title: 'KL to the base model', unit: 'nats / token', series: [{ key: 'kl', name: 'kl', color: PALETTE[3] }], note: beta === 0 ? 'beta is 0: no reference pass, KL is not measured.' : undefined },
    { id: 'loss', title: 'Loss', unit: 'loss', series: [{ key: 'loss', name: 'loss', color: PALETTE[4] }] },
    ...(sft === 'term' ? [SFT_TERM_SPEC] : []),
    {
      id: 'clip',
      title: 'Clip ratios',
      unit: 'share of tokens',
      percent: true,
      series: [
        { key: 'clip_ratio/low_mean', name: 'low', color: PALETTE[1] },
        { key: 'clip_ratio/high_mean', name: 'high', color: PALETTE[2] },
        { key: 'clip_ratio/region_mean', name: 'region', color: PALETTE[3] },
      ],
    },
    { id: 'entropy', title: 'Entropy', unit: 'nats / token', series: [{ key: 'entropy', name: 'entropy', color: PALETTE[5] }] },
    {
      id: 'length',
      title: 'Completion length',
      unit: 'tokens',
      series: [
        { key: 'completions/mean_length', name: 'mean', color: PALETTE[0] },
        { key: 'completions/min_length', name: 'min', color: PALETTE[2] },
        { key: 'completions/max_length', name: 'max', color: PALETTE[1] },
      ],
    },
    { id: 'clipped', title: 'Truncated completions', unit: 'share', percent: true, series: [{ key: 'completions/clipped_ratio', name: 'clipped_ratio', color: PALETTE[6] }] },
    { id: 'grad-norm', title: 'Gradient norm', unit: 'L2 norm', series: [{ key: 'grad_norm', name: 'grad_norm', color: PALETTE[4] }] },
    { id: 'lr', title: 'Learning rate', unit: 'learning rate', series: [{ key: 'learning_rate', name: 'learning_rate', color: PALETTE[3] }] },
    ...(tools
      ? [
          {
            // TRL's tool metrics: calls per completion, failed calls per call
            id: 'tools',
            title: 'Tool calls',
            unit: 'per completion / per call',
            series: [
              { key: 'tools/call_frequency', name: 'call_frequency', color: PALETTE[2] },
              { key: 'tools/failure_frequency', name: 'failure_frequency', color: PALETTE[1] },
            ],
          },
        ]
      : []),
    {
      id: 'throughput',
      title: 'Throughput',
      unit: 'tokens / s',
      series: [
        { key: 'tokens_per_second/generation', name: 'generation', color: PALETTE[0] },
        { key: 'tokens_per_second/training', name: 'training', color: PALETTE[1] },
      ],
    },
  ];
}

/** The GRPO charts an offline preference run draws too. */
const GRPO_SHARED = ['loss', 'grad-norm', 'lr'];

const EVAL_SPEC_BASE: ChartSpec = {
  id: 'eval',
  title: 'Eval pass@1',
  unit: 'held-out prompts',
  percent: true,
  series: [{ key: 'pass', name: 'pass@1 (greedy)', color: PALETTE[2] }],
};

/** The history with the reward band's ends (from raw values: the band is smoothed like the rest). */
export function withRewardBand(history: readonly Row[]): Row[] {
  return history.map((r) => {
    const m = r.reward;
    const sd = r.reward_std;
    return m !== undefined && sd !== undefined ? { ...r, reward_lo: m - sd, reward_hi: m + sd } : r;
  });
}

export function ChartsPanel() {
  const history = useAppStore((s) => s.history);
  const evals = useAppStore((s) => s.evals);
  const rewardNames = useAppStore((s) => s.rewardNames);
  const smoothing = useAppStore((s) => s.smoothing);
  const beta = useAppStore((s) => (s.runConfig ?? s.config).beta);
  // a run with tools or an environment reports TRL's tools/* metrics: their chart appears with them
  const tools = useAppStore((s) => s.history.length > 0 && s.history[s.history.length - 1]['tools/call_frequency'] !== undefined);
  // preference runs (and online DPO) report TRL's logps/chosen, logps/rejected: their charts appear with them
  const preference = useAppStore((s) => s.history.some((r) => r['logps/chosen'] !== undefined));
  // KTO's unpaired completions have no pairs: no pair-accuracy chart (TRL's KTOTrainer logs no rewards/accuracies)
  const pairs = useAppStore((s) => s.history.some((r) => r['rewards/accuracies'] !== undefined || r['eval_rewards/accuracies'] !== undefined));
  // a reward model's training reports RewardTrainer's accuracy and mean_reward
  const rewardModel = useAppStore((s) => s.history.some((r) => r.mean_reward !== undefined));
  // an SFT run reports SFTTrainer's mean_token_accuracy / num_tokens without rewards; GRPO with sft_coef its sft/loss
  const sft = useAppStore((s) => ((s.runConfig ?? s.config).algorithm === 'sft' && s.history.length > 0 ? 'run' : s.history.some((r) => r['sft/loss'] !== undefined) ? 'term' : null));
  // which prompts the run trains on (scans, curricula, mixtures, refill): their charts appear with their metrics
  const selectionKeys = useAppStore((s) => {
    const last = s.history[s.history.length - 1];
    return last ? Object.keys(last).filter((k) => k.startsWith('pass_rate/') || k.startsWith('rewards_by_source/') || k === 'curriculum/phase' || k.startsWith('dynamic_sampling/')).sort().join('|') : '';
  });
  const chartSpecs = useMemo(
    () => [
      ...specs(rewardNames, beta, tools, preference, rewardModel, sft).filter((spec) => pairs || spec.id !== 'pref-accuracy'),
      ...selectionSpecs(new Set(selectionKeys ? selectionKeys.split('|') : [])),
    ],
    [rewardNames, beta, tools, preference, pairs, rewardModel, sft, selectionKeys],
  );

  // derived columns once per update; the band is computed from raw values, then smoothed like the rest
  const rows = useMemo<Row[]>(() => withRewardBand(history), [history]);
  const drawn = useMemo(() => {
    const out = new Map<string, { rows: Row[]; raw: Row[] | null }>();
    for (const spec of chartSpecs) {
      const keys = [...spec.series.map((s) => s.key), ...(spec.band ? [spec.band.lo, spec.band.hi] : [])];
      const raw = downsampleRows(rows, keys, MAX_POINTS);
      out.set(spec.id, smoothing > 0 ? { rows: downsampleRows(smoothRows(rows, keys, smoothing), keys, MAX_POINTS), raw } : { rows: raw, raw: null });
    }
    return out;
  }, [rows, chartSpecs, smoothing]);
  const evalRows = useMemo<Row[]>(() => evals.map((e) => ({ step: e.step, pass: e.passAt1 })), [evals]);
  const evalSplit = useAppStore((s) => (s.runConfig ?? s.config).eval_split);
  const evalTemperature = useAppStore((s) => (s.runConfig ?? s.config).eval_temperature);
  const evalSpec = useMemo<ChartSpec>(() => {
    const decoding = evalTemperature > 0 ? `sampled at T=${evalTemperature}` : 'greedy';
    return {
      ...EVAL_SPEC_BASE,
      series: [{ ...EVAL_SPEC_BASE.series[0], name: `pass@1 (${decoding})` }],
      note: evalSplit > 0
        ? `${evalTemperature > 0 ? `One completion per held-out prompt, sampled at temperature ${evalTemperature} (same seed at every evaluation)` : 'Greedy answers to held-out prompts'}; full marks from the first reward pass.`
        : 'eval_split is 0: no prompts are held out.',
    };
  }, [evalSplit, evalTemperature]);

  // experiments: runs selected in the Runs panel are overlaid instead
  const overlay = useAppStore((s) => s.selectedRunIds.length > 0);
  return (
    <section className="panel charts-panel" aria-labelledby="charts-title" data-testid="charts-panel">
      <div className="panel-head">
        <h2 id="charts-title">Training curves</h2>
        <SmoothingControl />
      </div>
      {overlay ? <OverlayCharts /> : history.length === 0 && evals.length === 0 ? (
        <div className="charts-empty" data-testid="charts-empty">
          <p>
            <strong>Press Start.</strong> The model first answers the held-out prompts (eval pass@1), then every step samples a group of completions per prompt,
            scores them with the rewards, and nudges the LoRA adapter towards the better ones.
          </p>
          <p className="muted">
            Curves appear here: reward (with its spread), each reward function, eval pass@1, KL, loss, clip ratios, entropy, completion lengths, gradient norm,
            learning rate and throughput, under TRL's metric names so they compare directly with a TRL run.
          </p>
        </div>
      ) : (
      <div className="chart-grid">
        <MetricChart spec={chartSpecs[0]} rows={drawn.get(chartSpecs[0].id)!.rows} raw={drawn.get(chartSpecs[0].id)!.raw} points={history.length} />
        {/* a reward model does not change what the model writes: no generation to evaluate */}
        {rewardModel && rewardNames.length === 0 ? null : <MetricChart spec={evalSpec} rows={evalRows} raw={null} points={evals.length} />}
        {((preference || rewardModel) && rewardNames.length === 0) || sft === 'run' ? null : <GapChart />}
        {chartSpecs.slice(1).map((spec) => (
          <MetricChart key={spec.id} spec={spec} rows={drawn.get(spec.id)!.rows} raw={drawn.get(spec.id)!.raw} points={history.length} />
        ))}
      </div>
      )}
    </section>
  );
}

function SmoothingControl() {
  const smoothing = useAppStore((s) => s.smoothing);
  const set = useAppStore((s) => s.setSmoothing);
  return (
    <label className="smoothing">
      <span className="small muted">Smoothing</span>
      <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => set(Number(e.target.value))} aria-valuetext={smoothing.toFixed(2)} />
      <span className="num small mono smoothing-value">{smoothing.toFixed(2)}</span>
    </label>
  );
}
