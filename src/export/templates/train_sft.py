#!/usr/bin/env python3
"""{{docstring}}
"""
# Written by GRPO Playground from src/export/templates/train_sft.py.
import os

import torch
from datasets import load_dataset
from peft import LoraConfig, PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
from trl import SFTConfig, SFTTrainer

# The base model: a Hugging Face id or a local folder.{{model_source}}
MODEL = {{model}}
DATA_FILE = {{data_file}}
ADAPTER = "adapter"  # the playground's adapter folder; set to None to start a new adapter
SYSTEM_PROMPT = {{system_prompt}}
PROMPT_TEMPLATE = {{prompt_template}}
USE_CHAT_TEMPLATE = {{use_chat_template}}
EVAL_SPLIT = {{eval_split}}
EVAL_MAX_SAMPLES = {{eval_max_samples}}
SEED = {{seed}}
BASE_DTYPE = {{base_dtype}}  # "auto", or the torch dtype the playground stored the base weights in
{{quantization_config}}

# Not reproduced here (the playground's own settings, with what this script does instead):
{{not_in_trl}}

# ---- data: TRL's prompt-completion format (the loss covers the completion only, as in the playground) ----

dataset = load_dataset({{file_format}}, data_files=DATA_FILE, split="train"{{load_options}})
{{rename_columns}}tokenizer = AutoTokenizer.from_pretrained(MODEL)
CHAT = USE_CHAT_TEMPLATE and bool(tokenizer.chat_template)


def prompt_of(value):
    text = str(value)
    if PROMPT_TEMPLATE is not None:
        text = PROMPT_TEMPLATE.replace("{prompt}", text)
    if CHAT:
        return ([{"role": "system", "content": SYSTEM_PROMPT}] if SYSTEM_PROMPT is not None else []) + [{"role": "user", "content": text}]
    return SYSTEM_PROMPT + "\n\n" + text if SYSTEM_PROMPT else text


def to_example(row):
    completion = str(row["completion"])
    return {"prompt": prompt_of(row["prompt"]), "completion": [{"role": "assistant", "content": completion}] if CHAT else completion}


dataset = dataset.map(to_example)
if EVAL_SPLIT > 0:
    split = dataset.train_test_split(test_size=EVAL_SPLIT, seed=SEED)
    train_dataset, eval_dataset = split["train"], split["test"].select(range(min(EVAL_MAX_SAMPLES, len(split["test"]))))
else:
    train_dataset, eval_dataset = dataset, None

# ---- the run ----

training_args = SFTConfig(
    output_dir="sft-output",
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
trainer = SFTTrainer(
    model=model,
    processing_class=tokenizer,
    args=training_args,
    train_dataset=train_dataset,
    eval_dataset=eval_dataset,
    peft_config=peft_config,
)
trainer.train()
trainer.save_model("sft-output/final")
