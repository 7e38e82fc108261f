// The Export tab's files: metrics as CSV and JSONL (TRL's names, one row per step), the zip with the PEFT
// adapter, and the TRL + PEFT script, whose Python must parse and whose reward functions must score as
// the playground's built-ins do.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mergeMetricRows, metricColumns, metricsToCsv, metricsToJsonl, type MetricRow } from '../../src/export/metrics';
import { adapterFromZip, makeZip, readZip } from '../../src/export/zip';
import { pyLiteral, trlScript } from '../../src/export/trl_script';
import { defaultConfig } from '../../src/grpo/config';
import { applyPreset } from '../../src/grpo/presets';
import { REWARD_FUNCS } from '../../src/grpo/rewards';

const steps: MetricRow[] = [
  { step: 1, reward: 0.25, loss: 0.1, 'rewards/numeric_match/mean': 0.25 },
  { step: 2, reward: 0.5, loss: NaN, 'rewards/numeric_match/mean': 0.5, kl: 0.01 },
];
const evals = [
  { step: 0, passAt1: 0.1, rewardMean: 0.1 },
  { step: 2, passAt1: 0.3, rewardMean: 0.35 },
];

describe('metrics files', () => {
  test('evaluations join their step; step 0 holds the evaluation before training', () => {
    const rows = mergeMetricRows(steps, evals);
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2]);
    expect(rows[0]).toEqual({ step: 0, 'eval/pass@1': 0.1, 'eval/reward_mean': 0.1 });
    expect(rows[2]['eval/pass@1']).toBe(0.3);
    expect(rows[2].reward).toBe(0.5);
    expect(metricColumns(rows)[0]).toBe('step');
  });
  test('CSV: a header of every metric, empty cells for missing or non-finite values', () => {
    const csv = metricsToCsv(mergeMetricRows(steps, evals));
    const lines = csv.trimEnd().split('\n');
    const header = lines[0].split(',');
    expect(header).toEqual(['step', 'eval/pass@1', 'eval/reward_mean', 'reward', 'loss', 'rewards/numeric_match/mean', 'kl']);
    expect(lines).toHaveLength(4);
    const at = (line: number, col: string) => lines[line].split(',')[header.indexOf(col)];
    expect(at(1, 'reward')).toBe('');
    expect(at(2, 'reward')).toBe('0.25');
    expect(at(3, 'loss')).toBe(''); // NaN
    expect(at(3, 'kl')).toBe('0.01');
  });
  test('CSV quotes names that need it', () => {
    expect(metricsToCsv([{ step: 1, 'a,b': 1 } as MetricRow]).split('\n')[0]).toBe('step,"a,b"');
  });
  test('JSONL: one object per line, non-finite numbers as null', () => {
    const lines = metricsToJsonl(steps).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[1].loss).toBeNull();
    expect(lines[0]).toEqual(steps[0]);
    expect(metricsToJsonl([])).toBe('');
  });
});

describe('zip', () => {
  test('round trip, and the adapter found at the root or in a folder', () => {
    const weights = new Uint8Array([1, 2, 3, 250]);
    const zip = makeZip({ 'adapter_model.safetensors': weights, 'adapter_config.json': '{"r": 4}', 'metrics.csv': 'step\n1\n' });
    expect(zip[0]).toBe(0x50); // "PK"
    expect(zip[1]).toBe(0x4b);
    const files = readZip(zip);
    expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'metrics.csv']);
    expect(adapterFromZip(zip)).toEqual({ weights, config: '{"r": 4}' });
    const nested = makeZip({ 'run/adapter_model.safetensors': weights, 'run/adapter_config.json': '{}' });
    expect(adapterFromZip(nested).weights).toEqual(weights);
  });
  test('a zip without the adapter says what is missing; garbage is not a zip', () => {
    expect(() => adapterFromZip(makeZip({ 'adapter_config.json': '{}' }))).toThrow(/no adapter_model\.safetensors/);
    expect(() => readZip(new Uint8Array([1, 2, 3]))).toThrow(/not a readable \.zip/);
  });
});

describe('TRL script', () => {
  const config = {
    ...applyPreset(defaultConfig(), 'dapo'),
    learning_rate: 3e-3,
    max_steps: 300,
    system_prompt: 'Answer with a number.',
    prompt_template: 'Q: {prompt}\nA:',
    reward_funcs: [
      { name: 'numeric_match', weight: 1, params: {} },
      { name: 'format', weight: 0.5, params: { pattern: '^\\d+$' } },
      { name: 'numeric_match', weight: 0.25, params: { tolerance: 0.5 } },
      { name: 'custom', weight: 1, params: { source: '(p, c, a) => c.length < 10 ? 1 : 0' } },
    ],
  };
  const script = trlScript({
    config,
    modelName: 'HuggingFaceTB/SmolLM2-135M',
    dataset: { name: 'gsm8k.csv', format: 'csv', promptColumn: 'question', answerColumn: 'answer' },
    stepsTrained: 40,
  });

  test('carries the same GRPOConfig and LoraConfig values, in TRL names', () => {
    expect(script).toContain('MODEL = "HuggingFaceTB/SmolLM2-135M"');
    expect(script).toContain('learning_rate=0.003,');
    expect(script).toContain('max_steps=300,');
    expect(script).toContain('epsilon_high=0.28,');
    expect(script).toContain('loss_type="dapo",');
    expect(script).toContain('mask_truncated_completions=True,');
    expect(script).toContain(`per_device_train_batch_size=${config.prompts_per_step * config.num_generations},`);
    expect(script).toContain('reward_weights=[1, 0.5, 0.25, 1],');
    expect(script).toContain(`r=${config.lora_r},`);
    expect(script).toContain('target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],');
    expect(script).toContain('load_dataset("csv", data_files=DATA_FILE');
    expect(script).toContain('dataset.rename_columns({"question": "prompt"})');
    expect(script).toContain('PROMPT_TEMPLATE = "Q: {prompt}\\nA:"');
    expect(script).toContain('make_numeric_match("numeric_match_2", tolerance=0.5)');
    expect(script).toContain('def custom(prompts, completions, answer, **kwargs):');
    expect(script).toContain('#     (p, c, a) => c.length < 10 ? 1 : 0');
    expect(script).toContain('40 of 300 steps trained in the browser');
    expect(script).toContain('dynamic_sampling was on');
  });

  test('says that TRL has no shared-prefix training and that the numbers differ by float rounding only', () => {
    const on = trlScript({ config: { ...config, share_prompt_prefix_training: 'on' }, modelName: 'HuggingFaceTB/SmolLM2-135M', dataset: null, stepsTrained: 40 });
    const line = on.split('\n').find((l) => l.includes('share_prompt_prefix_training = "on"'));
    expect(line).toBeDefined();
    const block = on.slice(on.indexOf(line!)).split('\n').slice(0, 4).join(' ');
    expect(block).toMatch(/^#/);
    expect(block).toContain('TRL has no shared-prefix training');
    expect(block).toContain('float rounding only');
  });

  test('pyLiteral writes Python values', () => {
    expect(pyLiteral(null)).toBe('None');
    expect(pyLiteral(true)).toBe('True');
    expect(pyLiteral([1, 'a', { k: false }])).toBe('[1, "a", {"k": False}]');
    expect(pyLiteral('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
  });

  const python = spawnSync('python3', ['--version']).status === 0;

  test.skipIf(!python)('the script is valid Python', () => {
    const r = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: script, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test.skipIf(!python)("the Python rewards score as the playground's built-ins", () => {
    const helpers = script.slice(script.indexOf('# ---- reward helpers'), script.indexOf('# ---- the run ----'));
    // the custom stub raises by design; keep only the helpers
    const cut = helpers.indexOf('# The custom JavaScript reward');
    const code = cut >= 0 ? helpers.slice(0, cut) : helpers;
    const cases: { completion: string; answer: string }[] = [
      { completion: 'The answer is 1,234.', answer: '1234' },
      { completion: '\\boxed{3/4}', answer: '0.75' },
      { completion: 'so x = -5 and then 7', answer: '#### 7' },
      { completion: '<answer>Paris</answer>', answer: 'paris' },
      { completion: 'paris.', answer: 'Paris' },
      { completion: 'no number here', answer: '42' },
      { completion: 'It is −3', answer: '-3' },
      { completion: '  kqtz ', answer: 'kqzt' },
      { completion: '<think>hm</think> <answer>5</answer>', answer: '5' },
      { completion: 'x'.repeat(40), answer: 'abc' },
      { completion: '612', answer: '612' },
      { completion: '5km and 3rd', answer: '3' },
    ];
    const funcs: [string, Record<string, unknown>, string][] = [
      ['exact_match', {}, 'make_exact_match("f")'],
      ['numeric_match', {}, 'make_numeric_match("f")'],
      ['contains', {}, 'make_contains("f")'],
      ['partial_credit', {}, 'make_partial_credit("f")'],
      ['format', {}, `make_format("f", ${JSON.stringify(String((REWARD_FUNCS.format.params[0] as { default: string }).default))})`],
      ['length_penalty', { target: 10 }, 'make_length_penalty("f", target=10)'],
      ['soft_overlong', { max_completion_length: 30, cache_length: 10 }, 'make_soft_overlong("f", 30, cache_length=10)'],
    ];
    const program = `${code}
import json, sys
cases = json.loads(sys.stdin.read())
out = {}
${funcs.map(([name, , ctor]) => `out[${JSON.stringify(name)}] = ${ctor}([c["completion"] for c in cases], answer=[c["answer"] for c in cases])`).join('\n')}
print(json.dumps(out))
`;
    const r = spawnSync('python3', ['-c', `import math, re\n${program}`], { input: JSON.stringify(cases), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout) as Record<string, (number | null)[]>;
    for (const [name, params] of funcs) {
      const fn = REWARD_FUNCS[name as keyof typeof REWARD_FUNCS].fn;
      const want = cases.map((c) => fn(c.completion, c.answer, '', params));
      got[name].forEach((v, i) => {
        const w = want[i];
        if (w === null) expect(v, `${name} on case ${i}`).toBeNull();
        else expect(v, `${name} on case ${i} (${JSON.stringify(cases[i])})`).toBeCloseTo(w, 9);
      });
    }
  });
});
