// The Node command line over the same engine as the page. Errors: one line on stderr, exit code 1
// (2 for usage errors), no stack trace (set GRPO_DEBUG=1 for one).
import { generateCommand, logprobsCommand } from './generate';
import { evalCommand, trainCommand } from './train';
import { exportTrlCommand } from './export_trl';
import { UsageError } from './args';
import { cacheCommand } from './cache';
import { planCommand } from './plan';
import { sweepCommand } from './sweep';
import { scanCommand } from './scan';

const USAGE = `usage: grpo-playground <command> [options]

commands:
  generate  --model PATH [--tokenizer PATH] [--adapter DIR] --prompt TEXT [--max-new-tokens N] [--temperature T]
            [--top-k K] [--top-p P] [--seed S] [--stop TEXT]... [--json]
  logprobs  --model PATH [--tokenizer PATH] [--adapter DIR] --prompt TEXT --completion TEXT [--temperature T] [--json]

  train     --model PATH [--tokenizer PATH] --dataset FILE [--eval-dataset FILE] [--config FILE.json] [--steps N] [--sft]
            --out DIR [--quiet] [--prompt-column NAME] [--answer-column NAME] [--no-autotune]
            [--tools FILE.js] [--env FILE.js]   (tools the model may call; a multi-turn environment)
            [--base-precision NAME]   (the config's base_precision: auto, f32, bf16, f16, q8_0, q4_k, nf4, nf4_dq)
            with the config's algorithm dpo, simpo, orpo or kto: a preference dataset (prompt/chosen/rejected; KTO
            prompt/completion/label) [--answer-column NAME (chosen)] [--rejected-column NAME] [--label-column NAME]
            [--scan FILE.jsonl]   (a difficulty scan: needed by pass_rate_band and curriculum "easy_to_hard")
            [--init-adapter DIR]   (the LoRA starts from DIR's PEFT adapter, e.g. an SFT run's: SFT, then GRPO or DPO)
            with the config's algorithm sft: supervised fine-tuning as the page runs it (checkpoints, TRL's SFT metrics)
  train     --model PATH --dataset FILE --resume DIR [--steps N] [--scan FILE.jsonl]   (continue a run from DIR's checkpoint)
  eval      --model PATH [--tokenizer PATH] [--adapter DIR] --dataset FILE [--config FILE.json] [--json]
            [--prompt-column NAME] [--answer-column NAME] [--tools FILE.js] [--env FILE.js] [--no-tools]
            (with tools, the same episodes as training; --no-tools: the model on its own)
  export-trl --model PATH --dataset FILE [--config FILE.json] [--adapter DIR] --out DIR
            [--tokenizer PATH] [--prompt-column NAME] [--answer-column NAME]
            [--scan FILE.jsonl] (DIR/train_grpo.py continues the run with TRL v1.9 + PEFT; the dataset and adapter are
            copied beside it; with --scan the dataset gains each row's pass_rate, for pass_rate_band and curricula)
  cache     [--delete ORG/NAME] [--json]   (models and datasets downloaded from the Hub, with sizes)
  plan      --model PATH [--config FILE.json] [--budget BYTES] [--base-precision NAME] [--json]
            (the exact GPU memory of one worst-case GRPO step; PATH may be a folder holding only config.json)
  scan      --model PATH --dataset FILE [--k N (8)] --out FILE.jsonl [--config FILE.json] [--adapter DIR] [--train-only]
            (difficulty scan: N completions per prompt at the config's temperature; each prompt's pass rate and
            mean reward, for pass_rate_band and curriculum "easy_to_hard"; --train-only: only the rows train trains on)
  sweep     --spec FILE.json --out DIR [--steps N] [--quiet]   (every arm x seed of the spec, then
            DIR/summary.json, summary.csv, report.html; runs in DIR/runs/NAME as train --out writes them)

PATH is a llama2.c checkpoint (.bin, with tokenizer.bin beside it or --tokenizer), a Hugging Face
folder (config.json, model.safetensors, tokenizer.json) or a GGUF file (.gguf). FILE is JSONL, JSON or CSV with prompt and
answer columns (recognised by name, or named with --prompt-column / --answer-column), or parquet.
From the Hugging Face Hub: --model hf:ORG/NAME[@REVISION] (a repository of GGUF files: hf:ORG/NAME:Q4_K_M
picks a quantisation, or :PATH.gguf a file; one GGUF file is picked alone), --dataset hf:ORG/NAME[:CONFIG][/SPLIT]
(HF_ENDPOINT, HF_TOKEN for gated or private repos; cached in GRPO_HUB_CACHE, default
~/.cache/grpo-playground/hub). Without a GPU, WebGPU runs on SwiftShader.
On a hardware GPU, train times the kernel variants of each new matmul shape between steps and caches the
fastest in ~/.cache/grpo-playground/autotune.json ($GRPO_AUTOTUNE_CACHE); --no-autotune uses a fixed table.`;

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  generate: generateCommand,
  logprobs: logprobsCommand,
  train: trainCommand,
  eval: evalCommand,
  'export-trl': exportTrlCommand,
  cache: cacheCommand,
  plan: planCommand,
  sweep: sweepCommand,
  scan: scanCommand,
};

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE + '\n');
    return cmd ? 0 : 2;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    process.stderr.write(`grpo-playground: unknown command "${cmd}" (try: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  try {
    await run(rest);
    return 0;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // one line: multi-line messages (a list of config problems) are joined
    const oneLine = msg.split('\n').map((l) => l.trim().replace(/^- /, '')).filter(Boolean).join('; ').replace(/:;/g, ':');
    process.stderr.write(`grpo-playground ${cmd}: ${oneLine}\n`);
    if (process.env.GRPO_DEBUG) process.stderr.write(String((e as Error).stack) + '\n');
    return e instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main();
