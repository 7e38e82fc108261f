// `grpo-playground export-trl`: the TRL script, the dataset and the adapter written to a folder without the
// page; the script compiles; missing or bad arguments give one clear line and a non-zero exit.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSafetensors } from '../src/model/safetensors';
import { randomWeights, tinyConfig, tinyTokenizerJson } from './model/tiny';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('Warning:') && !l.startsWith(' - ') && !/^\s+at /.test(l));
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines };
}

const dir = mkdtempSync(join(tmpdir(), 'grpo-export-'));
/** A tiny Hugging Face folder (hidden 8, 2 layers, context 64). */
const MODEL = (() => {
  const c = tinyConfig({ vocabSize: 20 });
  const d = join(dir, 'tiny-llama');
  mkdirSync(d, { recursive: true });
  const config = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: c.hiddenSize, intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers, num_attention_heads: c.numHeads, num_key_value_heads: c.numKvHeads, vocab_size: c.vocabSize,
    rms_norm_eps: 1e-5, rope_theta: 10000, max_position_embeddings: 64, tie_word_embeddings: true, bos_token_id: 0, eos_token_id: 1,
  };
  writeFileSync(join(d, 'config.json'), JSON.stringify(config));
  writeFileSync(join(d, 'model.safetensors'), writeSafetensors(randomWeights(c, 1)));
  writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  return d;
})();
const data = join(dir, 'tales.csv');
writeFileSync(data, 'story,word\nTom saw a,dog\nSue had a,cat\n');
const config = join(dir, 'gspo.json');
writeFileSync(config, JSON.stringify({ max_prompt_length: 32, max_completion_length: 16, loss_type: 'grpo', importance_sampling_level: 'sequence', steps_per_generation: 4, max_steps: 8, long_prompts: 'skip', max_consecutive_skips: 2 }));
/** A rank-4 q_proj adapter that fits the tiny model (hidden 8, 2 layers); r other than 4 does not. */
function adapter(name: string, r = 4): string {
  const a = join(dir, name);
  mkdirSync(a, { recursive: true });
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (let l = 0; l < 2; l++) {
    tensors.set(`base_model.model.model.layers.${l}.self_attn.q_proj.lora_A.weight`, { shape: [4, 8], data: new Float32Array(4 * 8) });
    tensors.set(`base_model.model.model.layers.${l}.self_attn.q_proj.lora_B.weight`, { shape: [8, 4], data: new Float32Array(8 * 4) });
  }
  writeFileSync(join(a, 'adapter_model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  writeFileSync(join(a, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r, lora_alpha: 8, target_modules: ['q_proj'] }));
  return a;
}
const python = spawnSync('python3', ['--version']).status === 0;

describe('export-trl', () => {
  test('writes the script, the dataset and the adapter; the script compiles and carries the config', () => {
    const out = join(dir, 'out');
    const r = cli('export-trl', '--model', MODEL, '--dataset', data, '--prompt-column', 'story', '--answer-column', 'word', '--config', config, '--adapter', adapter('good'), '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*train_grpo\.py \(GRPOTrainer\)/);
    expect(r.stdout).not.toMatch(/note \(/); // GSPO with loss grpo and 4 steps per generation draws no advice
    for (const f of ['train_grpo.py', 'tales.csv', 'training_config.json', 'adapter/adapter_model.safetensors', 'adapter/adapter_config.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const script = readFileSync(join(out, 'train_grpo.py'), 'utf8');
    expect(script).toContain('DATA_FILE = "tales.csv"');
    expect(script).toContain('dataset.rename_columns({"story": "prompt", "word": "answer"})');
    expect(script).toContain('importance_sampling_level="sequence",');
    expect(script).toContain('steps_per_generation=4,');
    expect(script).toContain('LONG_PROMPTS = "skip"');
    expect(script).toContain('MAX_CONSECUTIVE_SKIPS = 2');
    expect(script).toContain(`MODEL = ${JSON.stringify(MODEL)}`);
    expect(script).toContain('In the playground: the folder');
    expect(script).not.toMatch(/max_prompt_length=|warmup_ratio=/);
    expect(JSON.parse(readFileSync(join(out, 'training_config.json'), 'utf8')).steps_per_generation).toBe(4);
    if (python) {
      const c = spawnSync('python3', ['-m', 'py_compile', join(out, 'train_grpo.py')], { encoding: 'utf8' });
      expect(c.stderr).toBe('');
      expect(c.status).toBe(0);
    }
  });

  test('missing or bad arguments: one line naming the problem, non-zero exit', () => {
    const cases: [string[], RegExp, number][] = [
      [['export-trl', '--dataset', data, '--out', join(dir, 'o1')], /--model is required/, 2],
      [['export-trl', '--model', MODEL, '--out', join(dir, 'o2')], /--dataset is required/, 2],
      [['export-trl', '--model', MODEL, '--dataset', data, '--prompt-column', 'story', '--answer-column', 'word'], /--out is required/, 2],
      [['export-trl', '--model', MODEL, '--dataset', data, '--out', join(dir, 'o3'), '--bogus'], /bogus/, 2],
      [['export-trl', '--model', join(dir, 'missing.bin'), '--dataset', data, '--out', join(dir, 'o4')], /missing\.bin/, 1],
      [['export-trl', '--model', MODEL, '--dataset', data, '--prompt-column', 'story', '--answer-column', 'word', '--out', join(dir, 'o5')], /max_prompt_length \+ max_completion_length = 320 tokens is more than the model's context of 64/, 1],
      [['export-trl', '--model', MODEL, '--dataset', join(dir, 'none.jsonl'), '--config', config, '--out', join(dir, 'o9')], /none\.jsonl: dataset file not found/, 1],
      [['export-trl', '--model', MODEL, '--dataset', data, '--prompt-column', 'story', '--answer-column', 'word', '--config', join(dir, 'nope.json'), '--out', join(dir, 'o6')], /nope\.json: config file not found/, 1],
      [['export-trl', '--model', MODEL, '--dataset', data, '--prompt-column', 'story', '--answer-column', 'word', '--config', writeBad(), '--out', join(dir, 'o7')], /sapo_temperature_pos must be greater than 0/, 1],
      [['export-trl', '--model', MODEL, '--dataset', data, '--prompt-column', 'story', '--answer-column', 'word', '--config', config, '--adapter', adapter('bad', 8), '--out', join(dir, 'o8')], /adapter_model\.safetensors: tensor .*q_proj\.lora_A\.weight has shape \[4, 8\], the model needs \[8, 8\] \(r=8\)/, 1],
    ];
    for (const [args, message, code] of cases) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.lines.length, r.stderr).toBe(1);
      expect(r.lines[0]).toMatch(/^grpo-playground export-trl: /);
      expect(r.lines[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/\.ts:\d+/);
    }
    expect(existsSync(join(dir, 'o8', 'train_grpo.py'))).toBe(false);
  });

  test('advice that does not stop the export is printed as a note naming its field', () => {
    const advised = join(dir, 'advised.json');
    writeFileSync(advised, JSON.stringify({ max_prompt_length: 32, max_completion_length: 16, importance_sampling_level: 'sequence', steps_per_generation: 2 }));
    const r = cli('export-trl', '--model', MODEL, '--dataset', data, '--prompt-column', 'story', '--answer-column', 'word', '--config', advised, '--out', join(dir, 'o10'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/note \(loss_type\): with importance_sampling_level "sequence", loss_type "dapo" .*GSPO uses loss_type "grpo"/);
  });
});

function writeBad(): string {
  const p = join(dir, 'bad.json');
  writeFileSync(p, JSON.stringify({ max_prompt_length: 32, max_completion_length: 16, loss_type: 'sapo', sapo_temperature_pos: 0 }));
  return p;
}
