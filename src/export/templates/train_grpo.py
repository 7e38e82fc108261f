#!/usr/bin/env python3
"""{{docstring}}
"""
# Written by GRPO Playground from src/export/templates/train_grpo.py.
import math
import os
import re

import torch
from datasets import load_dataset
from peft import LoraConfig, PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, TrainerCallback
from {{trl_module}} import {{config_class}}, {{trainer_class}}

# The base model: a Hugging Face id or a local folder.{{model_source}}
# (A llama2.c checkpoint must first be converted with transformers' convert_llama_weights_to_hf.py;
# the exported adapter already uses the converted model's layout.)
MODEL = {{model}}
DATA_FILE = {{data_file}}
ADAPTER = "adapter"  # the playground's adapter folder; set to None to start a new adapter
SYSTEM_PROMPT = {{system_prompt}}
PROMPT_TEMPLATE = {{prompt_template}}
USE_CHAT_TEMPLATE = {{use_chat_template}}
MAX_PROMPT_LENGTH = {{max_prompt_length}}  # tokens after the chat template (TRL removed max_prompt_length in v0.28)
LONG_PROMPTS = {{long_prompts}}  # "truncate_left": keep a long prompt's end; "skip": leave the row out
EVAL_SPLIT = {{eval_split}}
EVAL_MAX_SAMPLES = {{eval_max_samples}}
SEED = {{seed}}
MAX_CONSECUTIVE_SKIPS = {{max_consecutive_skips}}
BASE_DTYPE = {{base_dtype}}  # "auto", or the torch dtype the playground stored the base weights in
{{quantization_config}}
ALGORITHM = {{algorithm}}

# Settings of the playground that TRL does not have, and what this script does about them:
{{not_in_trl}}
NOT_REPRODUCED = {{not_reproduced}}

if ALGORITHM not in ("grpo", "online_dpo"):
    raise SystemExit(
        f"The playground run used algorithm={ALGORITHM!r} (expert iteration), which TRL does not have; this script "
        "would train GRPO instead. Set algorithm to grpo in the playground to export a GRPO run."
    )
for note in NOT_REPRODUCED:
    print("not reproduced by TRL:", note)

# ---- data: one prompt and one reference answer per row ----

dataset = load_dataset({{file_format}}, data_files=DATA_FILE, split="train"{{load_options}})
{{rename_columns}}dataset = dataset.filter(lambda row: bool(str(row["prompt"] or "").strip()) and bool(str(row["answer"] or "").strip()))
tokenizer = AutoTokenizer.from_pretrained(MODEL)
CHAT = USE_CHAT_TEMPLATE and bool(tokenizer.chat_template)


def prompt_of(text):
    """The prompt the trainer gets: chat messages when the tokenizer has a chat template, else plain text."""
    if CHAT:
        return ([{"role": "system", "content": SYSTEM_PROMPT}] if SYSTEM_PROMPT is not None else []) + [{"role": "user", "content": text}]
    return SYSTEM_PROMPT + "\n\n" + text if SYSTEM_PROMPT else text


def prompt_length(text):
    """The prompt's length in tokens as the trainer will see it (chat template and special tokens included)."""
    prompt = prompt_of(text)
    if CHAT:
        rendered = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        return len(tokenizer(rendered, add_special_tokens=False)["input_ids"])
    return len(tokenizer(prompt)["input_ids"])


def cut_left(text):
    """Drop the text's first tokens until its prompt fits in MAX_PROMPT_LENGTH tokens (the playground cuts the
    tokenized prompt from the left; here the cut is in the text, so the template's own tokens stay)."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    start = 0
    while start < len(ids):
        over = prompt_length(tokenizer.decode(ids[start:])) - MAX_PROMPT_LENGTH
        if over <= 0:
            break
        start += over
    return tokenizer.decode(ids[start:])


def to_prompt(row):
    text = str(row["prompt"])
    if PROMPT_TEMPLATE is not None:
        text = PROMPT_TEMPLATE.replace("{prompt}", text)
    too_long = prompt_length(text) > MAX_PROMPT_LENGTH
    if too_long and LONG_PROMPTS == "truncate_left":
        text = cut_left(text)
    keep = not (too_long and LONG_PROMPTS == "skip") and text != ""
    return {"prompt": prompt_of(text), "answer": str(row["answer"]), "too_long": too_long, "keep": keep}


dataset = dataset.map(to_prompt)
too_long = sum(dataset["too_long"])
if too_long:
    action = "cut from the left" if LONG_PROMPTS == "truncate_left" else "left out"
    print(f"{too_long} of {len(dataset)} prompts are longer than {MAX_PROMPT_LENGTH} tokens: {action}")
dataset = dataset.filter(lambda row: row["keep"]).remove_columns(["too_long", "keep"])

if EVAL_SPLIT > 0:
    split = dataset.train_test_split(test_size=EVAL_SPLIT, seed=SEED)
    train_dataset, eval_dataset = split["train"], split["test"].select(range(min(EVAL_MAX_SAMPLES, len(split["test"]))))
else:
    train_dataset, eval_dataset = dataset, None
{{data_selection}}
{{reward_helpers}}
{{custom_rewards}}{{reward_model_helpers}}{{tools_code}}
# ---- the run ----

reward_funcs = [
{{reward_funcs}}
]


class StopAfterNonFiniteLosses(TrainerCallback):
    """The playground skips an update whose loss is not finite and pauses after MAX_CONSECUTIVE_SKIPS of them in
    a row. The Trainer cannot skip an update; this stops training after that many non-finite losses in a row."""

    def __init__(self, limit):
        self.limit, self.count = limit, 0

    def on_log(self, args, state, control, logs=None, **kwargs):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        self.count = 0 if math.isfinite(loss) else self.count + 1
        if self.count >= self.limit:
            print(f"stopping: {self.count} non-finite losses in a row (max_consecutive_skips = {self.limit})")
            control.should_training_stop = True


training_args = {{config_class}}(
    output_dir="grpo-output",
{{config_kwargs}}
)

lora_config = LoraConfig(
{{lora_kwargs}}
)

model = AutoModelForCausalLM.from_pretrained(
    MODEL, dtype=BASE_DTYPE if BASE_DTYPE == "auto" else getattr(torch, BASE_DTYPE), quantization_config=QUANTIZATION_CONFIG
)
peft_config = lora_config
if ADAPTER and os.path.exists(os.path.join(ADAPTER, "adapter_config.json")):
    # continue from the browser's adapter; its r, alpha and target modules are in adapter_config.json
    model = PeftModel.from_pretrained(model, ADAPTER, is_trainable=True)
    peft_config = None

trainer = {{trainer_class}}(
    model=model,
    processing_class=tokenizer,
    reward_funcs=reward_funcs,{{reward_processing_arg}}{{tools_arg}}
    args=training_args,
    train_dataset=train_dataset,
    eval_dataset=eval_dataset,
    peft_config=peft_config,
    callbacks=[StopAfterNonFiniteLosses(MAX_CONSECUTIVE_SKIPS)],
)
trainer.train()
trainer.save_model("grpo-output/final")
