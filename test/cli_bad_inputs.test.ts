// Bad inputs at the command line: every broken dataset, model, config and adapter file gives one clear
// line on stderr naming the problem (file, line, field or tensor), a non-zero exit, and no stack trace.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSafetensors } from '../src/model/safetensors';
import { randomWeights, tinyConfig, tinyTokenizerJson } from './model/tiny';
import { STORIES } from './grpo/fixtures';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('Warning:') && !l.startsWith(' - ') && !/^\s+at /.test(l));
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines };
}
function expectOneLineError(args: string[], message: RegExp) {
  const r = cli(...args);
  expect(r.code, `${args.join(' ')}\n${r.stdout}`).not.toBe(0);
  expect(r.lines.length, r.stderr).toBe(1);
  expect(r.lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\.ts:\d+/);
}

const dir = mkdtempSync(join(tmpdir(), 'grpo-bad-'));
const file = (name: string, content: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const good = file('good.jsonl', '{"prompt": "Tom saw a", "answer": "dog"}\n{"prompt": "Sue had a", "answer": "dog"}\n');

/** A tiny Hugging Face folder; `edit` may break any file of it. */
function hfFolder(name: string, edit: (files: Record<string, string | Uint8Array>) => void = () => {}, vocabSize = 20): string {
  const c = tinyConfig({ vocabSize });
  const config: Record<string, unknown> = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: c.hiddenSize, intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers, num_attention_heads: c.numHeads, num_key_value_heads: c.numKvHeads, vocab_size: c.vocabSize,
    rms_norm_eps: 1e-5, rope_theta: 10000, max_position_embeddings: 64, tie_word_embeddings: true, bos_token_id: 0, eos_token_id: 1,
  };
  const files: Record<string, string | Uint8Array> = {
    'config.json': JSON.stringify(config),
    'model.safetensors': writeSafetensors(randomWeights(c, 1)),
    'tokenizer.json': JSON.stringify(tinyTokenizerJson()),
  };
  edit(files);
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  for (const [n, content] of Object.entries(files)) writeFileSync(join(d, n), content);
  return d;
}
const gen = (model: string) => ['generate', '--model', model, '--prompt', 'hello', '--max-new-tokens', '2'];

describe('bad datasets', () => {
  const train = (data: string) => ['train', '--model', STORIES, '--dataset', data, '--out', join(dir, 'out'), '--steps', '1'];
  test('empty, not UTF-8, invalid JSON, missing and empty columns', () => {
    expectOneLineError(train(file('empty.jsonl', '')), /empty\.jsonl.*empty/i);
    expectOneLineError(train(file('latin1.jsonl', Uint8Array.from([...Buffer.from('{"prompt": "caf'), 0xe9, ...Buffer.from('", "answer": "x"}\n')]))), /latin1\.jsonl.*UTF-8.*line 1/);
    expectOneLineError(train(file('badjson.jsonl', '{"prompt": "a", "answer": \n')), /line 1.*not valid JSON/);
    // a bad row among good ones is skipped, counted and shown; the run goes on
    const mixed = cli(...train(file('mixed.jsonl', '{"prompt": "Tom had a", "answer": "dog"}\n{"prompt": "c", "answer": \n{"prompt": "Sue saw a", "answer": "dog"}\n')));
    expect(mixed.code, mixed.stderr).toBe(0);
    expect(mixed.stdout).toMatch(/2 rows .* 1 invalid row skipped \(first: line 2: line 2 is not valid JSON/);
    expectOneLineError(train(file('nocol.csv', 'question,reply\nwhat,that\n')), /answer/);
    expectOneLineError(train(file('emptycol.jsonl', '{"prompt": "a", "answer": ""}\n')), /line 1.*answer|answer.*line 1/);
    expectOneLineError(['train', '--model', STORIES, '--dataset', good, '--prompt-column', 'nope', '--out', join(dir, 'out')], /nope/);
  });
});

describe('bad models', () => {
  test('truncated and malformed safetensors', () => {
    expectOneLineError(gen(hfFolder('truncated', (f) => (f['model.safetensors'] = (f['model.safetensors'] as Uint8Array).subarray(0, 600)))), /model\.safetensors/);
    expectOneLineError(gen(hfFolder('header', (f) => {
      const b = (f['model.safetensors'] as Uint8Array).slice();
      new DataView(b.buffer).setUint32(0, 1e9, true);
      f['model.safetensors'] = b;
    })), /header/i);
    const withHeader = (mutate: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void) => (f: Record<string, string | Uint8Array>) => {
      const b = f['model.safetensors'] as Uint8Array;
      const n = new DataView(b.buffer, b.byteOffset).getUint32(0, true);
      const header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n)));
      mutate(header);
      let json = new TextEncoder().encode(JSON.stringify(header));
      const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
      padded.set(json);
      json = padded;
      const out = new Uint8Array(8 + json.length + (b.length - 8 - n));
      new DataView(out.buffer).setUint32(0, json.length, true);
      out.set(json, 8);
      out.set(b.subarray(8 + n), 8 + json.length);
      f['model.safetensors'] = out;
    };
    expectOneLineError(gen(hfFolder('dtype', withHeader((h) => (h['model.norm.weight'].dtype = 'F8_E4M3')))), /model\.norm\.weight.*F8_E4M3|F8_E4M3.*model\.norm\.weight/);
    expectOneLineError(gen(hfFolder('range', withHeader((h) => (h['model.norm.weight'].data_offsets = [0, 1e8])))), /model\.norm\.weight/);
    expectOneLineError(gen(hfFolder('overlap', withHeader((h) => {
      const first = Object.values(h).find((e) => e.data_offsets && e.data_offsets[0] === 0)!;
      const norm = h['model.norm.weight'];
      norm.data_offsets = [first.data_offsets[0], first.data_offsets[0] + (norm.data_offsets[1] - norm.data_offsets[0])];
    }))), /overlap/i);
    expectOneLineError(gen(hfFolder('shape', withHeader((h) => (h['model.norm.weight'].shape = [4, 2])))), /model\.norm\.weight/);
  });
  test('config and tokenizer problems', () => {
    expectOneLineError(gen(hfFolder('nofield', (f) => {
      const c = JSON.parse(f['config.json'] as string);
      delete c.num_attention_heads;
      f['config.json'] = JSON.stringify(c);
    })), /num_attention_heads/);
    expectOneLineError(gen(hfFolder('arch', (f) => {
      const c = JSON.parse(f['config.json'] as string);
      c.model_type = 'gpt2';
      c.architectures = ['GPT2LMHeadModel'];
      f['config.json'] = JSON.stringify(c);
    })), /gpt2|GPT2LMHeadModel/);
    expectOneLineError(gen(hfFolder('notok', (f) => delete f['tokenizer.json'])), /tokenizer\.json is missing/);
    expectOneLineError(gen(hfFolder('vocab', (f) => {
      const c = JSON.parse(f['config.json'] as string);
      c.vocab_size = 10;
      f['config.json'] = JSON.stringify(c);
    })), /model\.embed_tokens\.weight has shape \[20, 8\], expected \[10, 8\]/);
    expectOneLineError(gen(hfFolder('bigtok', () => {}, 15)), /tokenizer has 20 tokens but the model's vocab_size is 15/);
    expectOneLineError(['generate', '--model', STORIES, '--tokenizer', join(dir, 'no-such-tok.bin'), '--prompt', 'x'], /no-such-tok\.bin/);
  });
});

describe('bad configs and adapters', () => {
  const withConfig = (cfg: unknown) => ['train', '--model', STORIES, '--dataset', good, '--config', file(`cfg${Math.random()}.json`, JSON.stringify(cfg)), '--out', join(dir, 'o')];
  test('values out of range, a group of one, batch sizes that do not divide', () => {
    expectOneLineError(withConfig({ num_generations: 1 }), /num_generations/);
    expectOneLineError(withConfig({ learning_rate: -1 }), /learning_rate/);
    expectOneLineError(withConfig({ epsilon: 0.3, epsilon_high: 0.1 }), /epsilon_high/);
    expectOneLineError(withConfig({ prompts_per_step: 1.5 }), /prompts_per_step/);
    expectOneLineError(withConfig({ reward_funcs: [{ name: 'numeric_match', weight: 1, params: { tolerance: 'big' } }] }), /tolerance/);
  });
  test('adapters whose rank, targets or shapes do not fit the model', () => {
    const a = join(dir, 'adapter');
    mkdirSync(a, { recursive: true });
    const A = new Float32Array(4 * 64);
    const B = new Float32Array(64 * 4);
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (let l = 0; l < 5; l++) {
      tensors.set(`base_model.model.model.layers.${l}.self_attn.q_proj.lora_A.weight`, { shape: [4, 64], data: A });
      tensors.set(`base_model.model.model.layers.${l}.self_attn.q_proj.lora_B.weight`, { shape: [64, 4], data: B });
    }
    writeFileSync(join(a, 'adapter_model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
    const cfg = { peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj'] };
    writeFileSync(join(a, 'adapter_config.json'), JSON.stringify(cfg));
    const g = (adapter: string) => ['generate', '--model', STORIES, '--adapter', adapter, '--prompt', 'x', '--max-new-tokens', '2'];
    expect(cli(...g(a)).code).toBe(0); // it fits
    writeFileSync(join(a, 'adapter_config.json'), JSON.stringify({ ...cfg, r: 8 }));
    expectOneLineError(g(a), /lora_A\.weight has shape \[4, 64\], the model needs \[8, 64\]/);
    writeFileSync(join(a, 'adapter_config.json'), JSON.stringify({ ...cfg, target_modules: ['q_proj', 'v_proj'] }));
    expectOneLineError(g(a), /missing tensor .*v_proj\.lora_A/);
    writeFileSync(join(a, 'adapter_config.json'), JSON.stringify({ ...cfg, target_modules: ['embed_tokens'] }));
    expectOneLineError(g(a), /embed_tokens/);
    writeFileSync(join(a, 'adapter_config.json'), JSON.stringify(cfg));
    const hf = hfFolder('for-adapter');
    expectOneLineError(g(a).map((x) => (x === STORIES ? hf : x)), /shape \[4, 64\], the model needs \[4, 8\]/);
    void readFileSync;
  });
});
