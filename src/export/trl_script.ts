// A ready-to-run Python script that continues a playground run with TRL + PEFT on real GPUs: the same
// GRPOConfig values (configToTrlJson), the LoraConfig, the dataset with its columns mapped to prompt and
// answer, the prompt formatting, and the reward functions, written out in Python with the playground's
// semantics (custom JavaScript rewards become stubs that carry the JavaScript as a comment).

import { configToTrlJson, type GrpoConfig, type RewardFuncConfig } from '../grpo/config';

export interface TrlScriptInput {
  config: GrpoConfig;
  /** the base model's name as the playground knows it (a Hugging Face id when it came from the Hub) */
  modelName: string;
  /** where the model came from, for the comment above MODEL */
  modelSource?: string;
  dataset: { name: string; format: string; promptColumn: string; answerColumn: string } | null;
  /** optimizer steps already trained in the browser (0: the script starts from scratch) */
  stepsTrained: number;
  /** a date for the header; omitted in tests */
  exportedAt?: string;
}

/** A JSON value as a Python literal (None, True, False, strings, numbers, lists, dicts). */
export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'float("nan")';
    if (!Number.isFinite(v)) return v > 0 ? 'float("inf")' : '-float("inf")';
    return String(v);
  }
  // JSON's string escapes (\n, \", \\, \uXXXX) are valid in Python string literals too
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pyLiteral(x)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(String(v));
}

function kwargs(obj: Record<string, unknown>, indent: string): string {
  return Object.entries(obj)
    .map(([k, v]) => `${indent}${k}=${pyLiteral(v)},`)
    .join('\n');
}

/** Python identifiers for the reward functions, unique like the trainer's names (numeric_match_2, ...). */
function rewardNames(funcs: readonly RewardFuncConfig[]): string[] {
  const names: string[] = [];
  for (const f of funcs) {
    const base = f.name.replace(/[^A-Za-z0-9_]/g, '_');
    let name = base;
    for (let k = 2; names.includes(name); k++) name = `${base}_${k}`;
    names.push(name);
  }
  return names;
}

const HELPERS = `# ---- reward helpers: the playground's built-in rewards in Python (src/grpo/rewards) ----

NUMBER_RE = re.compile(
    r"(?<![^\\W\\d_])(?<![\\d.])([-\\u2212+]?)(?=\\.?\\d)(\\d{1,3}(?:,\\d{3})+(?!\\d)|\\d+)?(\\.\\d+)?(?:[eE]([-+]?\\d+))?(?:\\s*/\\s*(\\d+))?"
)


def completion_text(completion):
    """A completion is a string, or (conversational datasets) a list of messages."""
    if isinstance(completion, list):
        return completion[-1]["content"] if completion else ""
    return completion


def normalize(s, case_insensitive=True, strip_punctuation=True):
    t = re.sub(r"\\s+", " ", s).strip()
    if strip_punctuation:
        t = re.sub(r"[\\s.,;:!?\\u3002\\uff0c\\uff1b\\uff1a\\uff01\\uff1f]+$", "", t)
    return t.lower() if case_insensitive else t


def extract_boxed(s):
    last = None
    for m in re.finditer(r"\\\\(?:boxed|fbox)\\s*\\{", s):
        depth, i = 1, m.end()
        start = i
        while i < len(s) and depth > 0:
            depth += {"{": 1, "}": -1}.get(s[i], 0)
            i += 1
        if depth == 0:
            last = s[start : i - 1]
    return last


def extract_answer_tag(s):
    found = re.findall(r"<answer>([\\s\\S]*?)</answer>", s, flags=re.IGNORECASE)
    return found[-1] if found else None


def extract_final(s):
    boxed = extract_boxed(s)
    return boxed if boxed is not None else extract_answer_tag(s)


def reference_answer(answer):
    if "####" in answer:
        return answer[answer.rindex("####") + 4 :]
    final = extract_final(answer)
    return final if final is not None else answer


def find_numbers(s):
    s = re.sub(r"\\\\[dt]?frac\\s*\\{\\s*([-\\u2212]?\\d+)\\s*\\}\\s*\\{\\s*(\\d+)\\s*\\}", r"\\1/\\2", s)
    out = []
    for m in NUMBER_RE.finditer(s):
        sign, whole, frac, exp, denom = m.groups()
        if whole is None and frac is None:
            continue
        v = float((whole or "0").replace(",", "") + (frac or "") + (f"e{exp}" if exp is not None else ""))
        if denom is not None and frac is None and exp is None:
            if int(denom) == 0:
                continue
            v /= int(denom)
        if sign in ("-", "\\u2212"):
            v = -v
        if math.isfinite(v):
            out.append(v)
    return out


def last_number(s):
    found = find_numbers(s)
    return found[-1] if found else None


def levenshtein(a, b):
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def length_of(completion, ids):
    """Tokens when TRL passes completion_ids, else characters (as the playground does)."""
    return len(ids) if ids is not None else len(completion)


def pick(completion, answer, extract):
    if extract == "none":
        return completion, answer
    final = extract_final(completion)
    return (final if final is not None else completion), reference_answer(answer)


def named(name, fn):
    fn.__name__ = name  # TRL logs rewards/<__name__>/mean
    return fn


def make_exact_match(name, case_sensitive=False, strip_punctuation=True, extract="auto"):
    def reward(completions, answer, **kwargs):
        out = []
        for c, a in zip(map(completion_text, completions), answer):
            c, a = pick(c, a, extract)
            ref = normalize(a, not case_sensitive, strip_punctuation)
            out.append(None if ref == "" else float(normalize(c, not case_sensitive, strip_punctuation) == ref))
        return out

    return named(name, reward)


def make_numeric_match(name, tolerance=1e-6, relative_tolerance=0.0):
    def reward(completions, answer, **kwargs):
        out = []
        for c, a in zip(map(completion_text, completions), answer):
            want = last_number(reference_answer(a))
            want = last_number(a) if want is None else want
            if want is None:
                out.append(None)
                continue
            region = extract_boxed(c)
            region = extract_answer_tag(c) if region is None else region
            got = last_number(c if region is None else region)
            out.append(0.0 if got is None else float(abs(got - want) <= tolerance + relative_tolerance * abs(want)))
        return out

    return named(name, reward)


def make_contains(name, text="", case_sensitive=False):
    def reward(completions, answer, **kwargs):
        out = []
        for c, a in zip(map(completion_text, completions), answer):
            needle = normalize(text or a, not case_sensitive, False)
            out.append(None if needle == "" else float(needle in normalize(c, not case_sensitive, False)))
        return out

    return named(name, reward)


def make_partial_credit(name, case_sensitive=False, extract="auto"):
    def reward(completions, answer, **kwargs):
        out = []
        for c, a in zip(map(completion_text, completions), answer):
            c, a = pick(c, a, extract)
            a, c = normalize(a, not case_sensitive), normalize(c, not case_sensitive)
            out.append(None if a == "" else 1 - levenshtein(c, a) / max(len(c), len(a)))
        return out

    return named(name, reward)


def make_format(name, pattern, flags="", trim=True):
    compiled = re.compile(pattern, (re.IGNORECASE if "i" in flags else 0) | (re.DOTALL if "s" in flags else 0) | (re.MULTILINE if "m" in flags else 0))

    def reward(completions, **kwargs):
        return [float(bool(compiled.search(c.strip() if trim else c))) for c in map(completion_text, completions)]

    return named(name, reward)


def make_length_penalty(name, target=32, floor=-1.0):
    def reward(completions, completion_ids=None, **kwargs):
        ids = completion_ids or [None] * len(completions)
        return [max(floor, -abs(length_of(c, i) - target) / target) for c, i in zip(map(completion_text, completions), ids)]

    return named(name, reward)


def make_soft_overlong(name, max_completion_length, cache_length=16):
    def reward(completions, completion_ids=None, **kwargs):
        ids = completion_ids or [None] * len(completions)
        out = []
        for c, i in zip(map(completion_text, completions), ids):
            n = length_of(c, i)
            out.append(0.0 if n <= max_completion_length - cache_length else (max_completion_length - cache_length - n) / cache_length if n <= max_completion_length else -1.0)
        return out

    return named(name, reward)
`;

function rewardLine(f: RewardFuncConfig, name: string, c: GrpoConfig): string {
  const p = f.params;
  const args = (entries: [string, unknown][]) =>
    [JSON.stringify(name), ...entries.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${pyLiteral(v)}`)].join(', ');
  switch (f.name) {
    case 'exact_match':
      return `make_exact_match(${args([['case_sensitive', p.case_sensitive], ['strip_punctuation', p.strip_punctuation], ['extract', p.extract]])})`;
    case 'numeric_match':
      return `make_numeric_match(${args([['tolerance', p.tolerance], ['relative_tolerance', p.relative_tolerance]])})`;
    case 'contains':
      return `make_contains(${args([['text', p.text], ['case_sensitive', p.case_sensitive]])})`;
    case 'partial_credit':
      return `make_partial_credit(${args([['case_sensitive', p.case_sensitive], ['extract', p.extract]])})`;
    case 'format':
      return `make_format(${args([
        ['pattern', p.pattern ?? '^<think>[\\s\\S]*?</think>\\s*<answer>[\\s\\S]*?</answer>$'],
        ['flags', p.flags],
        ['trim', p.trim],
      ])})`;
    case 'length_penalty':
      return `make_length_penalty(${args([['target', p.target], ['floor', p.floor]])})`;
    case 'soft_overlong':
      return `make_soft_overlong(${args([
        ['max_completion_length', typeof p.max_completion_length === 'number' ? p.max_completion_length : c.max_completion_length],
        ['cache_length', p.cache_length],
      ])})`;
    default:
      return name;
  }
}

function customStub(name: string, source: string): string {
  const commented = source
    .split('\n')
    .map((l) => `#     ${l}`)
    .join('\n');
  return `# The custom JavaScript reward "${name}" of the playground, to translate to Python:
#
${commented}
#
def ${name}(prompts, completions, answer, **kwargs):
    # dataset columns arrive as keyword arguments (kwargs["my_column"] is a list, one value per completion)
    raise NotImplementedError("translate the JavaScript reward above to Python")
`;
}

/** The whole script. */
export function trlScript(input: TrlScriptInput): string {
  const { config: c, dataset } = input;
  const trl = configToTrlJson(c);
  const names = rewardNames(c.reward_funcs);
  const customs = c.reward_funcs
    .map((f, i) => (f.name === 'custom' ? customStub(names[i], String(f.params.source ?? '')) : ''))
    .filter(Boolean)
    .join('\n\n');
  const rewardList = c.reward_funcs.map((f, i) => `    ${rewardLine(f, names[i], c)},`).join('\n');
  const fileFormat = dataset?.format === 'csv' || dataset?.format === 'tsv' ? 'csv' : 'json';
  const csvDelimiter = dataset?.format === 'tsv' ? ', delimiter="\\t"' : '';
  const rename: string[] = [];
  if (dataset && dataset.promptColumn !== 'prompt') rename.push(`${JSON.stringify(dataset.promptColumn)}: "prompt"`);
  if (dataset && dataset.answerColumn !== 'answer') rename.push(`${JSON.stringify(dataset.answerColumn)}: "answer"`);
  const notInTrl = Object.entries(trl.not_in_trl)
    .map(([k, v]) => `#   ${k} = ${pyLiteral(v)}`)
    .join('\n');
  const dynamicNote = c.dynamic_sampling
    ? '# dynamic_sampling was on in the playground (drop groups whose rewards are all equal); TRL has no such switch.\n'
    : '';
  const header = [
    `Continue a GRPO Playground run with TRL + PEFT.`,
    ``,
    `Exported from GRPO Playground${input.exportedAt ? ` on ${input.exportedAt}` : ''}: base model ${input.modelName}` +
      `${dataset ? `, dataset ${dataset.name}` : ''}, ${input.stepsTrained} of ${c.max_steps} steps trained in the browser.`,
    `The GRPOConfig and LoraConfig below hold the browser run's values, in TRL's names.`,
    ``,
    `    pip install "trl>=0.21" peft datasets`,
    `    python train_grpo.py            # or: accelerate launch train_grpo.py`,
    ``,
    `Put adapter_model.safetensors and adapter_config.json (the playground's export) in ./adapter to continue`,
    `from the browser's adapter, and the dataset file beside this script.`,
  ].join('\n');
  return `#!/usr/bin/env python3
"""${header}
"""
import math
import os
import re

from datasets import load_dataset
from peft import LoraConfig, PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

# The base model: a Hugging Face id or a local folder.${input.modelSource ? ` In the playground: ${input.modelSource}.` : ''}
# (A llama2.c checkpoint must first be converted with transformers' convert_llama_weights_to_hf.py;
# the exported adapter already uses the converted model's layout.)
MODEL = ${pyLiteral(input.modelName)}
DATA_FILE = ${pyLiteral(dataset?.name ?? 'data.jsonl')}
ADAPTER = "adapter"  # the playground's adapter folder; set to None to start a new adapter
SYSTEM_PROMPT = ${pyLiteral(c.system_prompt)}
PROMPT_TEMPLATE = ${pyLiteral(c.prompt_template)}
USE_CHAT_TEMPLATE = ${pyLiteral(c.use_chat_template)}

# ---- data: one prompt and one reference answer per row ----

dataset = load_dataset(${JSON.stringify(fileFormat)}, data_files=DATA_FILE, split="train"${csvDelimiter})
${rename.length ? `dataset = dataset.rename_columns({${rename.join(', ')}})\n` : ''}dataset = dataset.filter(lambda row: bool(str(row["prompt"] or "").strip()) and bool(str(row["answer"] or "").strip()))
tokenizer = AutoTokenizer.from_pretrained(MODEL)


def to_prompt(row):
    text = str(row["prompt"])
    if PROMPT_TEMPLATE is not None:
        text = PROMPT_TEMPLATE.replace("{prompt}", text)
    if USE_CHAT_TEMPLATE and tokenizer.chat_template:
        messages = ([{"role": "system", "content": SYSTEM_PROMPT}] if SYSTEM_PROMPT is not None else []) + [{"role": "user", "content": text}]
        return {"prompt": messages, "answer": str(row["answer"])}
    if SYSTEM_PROMPT:
        text = SYSTEM_PROMPT + "\\n\\n" + text
    return {"prompt": text, "answer": str(row["answer"])}


dataset = dataset.map(to_prompt)
${
  c.eval_split > 0
    ? `split = dataset.train_test_split(test_size=${pyLiteral(c.eval_split)}, seed=${c.seed})
train_dataset, eval_dataset = split["train"], split["test"].select(range(min(${c.eval_max_samples}, len(split["test"]))))`
    : `train_dataset, eval_dataset = dataset, None`
}

${HELPERS}
${customs ? `\n${customs}\n` : ''}
# ---- the run ----

reward_funcs = [
${rewardList}
]

# Settings of the playground that TRL does not have (applied above where they can be):
${notInTrl}
${dynamicNote}training_args = GRPOConfig(
    output_dir="grpo-output",
${kwargs(trl.grpo_config, '    ')}
)

lora_config = LoraConfig(
${kwargs(trl.lora_config, '    ')}
)

model = AutoModelForCausalLM.from_pretrained(MODEL)
peft_config = lora_config
if ADAPTER and os.path.exists(os.path.join(ADAPTER, "adapter_config.json")):
    # continue from the browser's adapter; its r, alpha and target modules are in adapter_config.json
    model = PeftModel.from_pretrained(model, ADAPTER, is_trainable=True)
    peft_config = None

trainer = GRPOTrainer(
    model=model,
    processing_class=tokenizer,
    reward_funcs=reward_funcs,
    args=training_args,
    train_dataset=train_dataset,
    eval_dataset=eval_dataset,
    peft_config=peft_config,
)
trainer.train()
trainer.save_model("grpo-output/final")
`;
}
