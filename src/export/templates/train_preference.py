#!/usr/bin/env python3
"""{{docstring}}
"""
# Written by GRPO Playground from src/export/templates/train_preference.py.
import os

import torch
from datasets import load_dataset
from peft import LoraConfig, PeftModel
from transformers import AutoTokenizer, BitsAndBytesConfig, {{model_class}}
from {{trl_module}} import {{config_class}}, {{trainer_class}}

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
UNPAIRED = {{unpaired}}  # KTO: prompt / completion / label rows; otherwise prompt / chosen / rejected pairs

# ---- data: TRL's preference format ({{columns}}) ----

dataset = load_dataset({{file_format}}, data_files=DATA_FILE, split="train"{{load_options}})
{{rename_columns}}tokenizer = AutoTokenizer.from_pretrained(MODEL)
CHAT = USE_CHAT_TEMPLATE and bool(tokenizer.chat_template)


def text_of(value):
    """A field as text: a conversational field (a list of messages) gives its last message's content."""
    return value[-1]["content"] if isinstance(value, list) else str(value)


def prompt_of(value):
    text = text_of(value)
    if PROMPT_TEMPLATE is not None:
        text = PROMPT_TEMPLATE.replace("{prompt}", text)
    if CHAT:
        return ([{"role": "system", "content": SYSTEM_PROMPT}] if SYSTEM_PROMPT is not None else []) + [{"role": "user", "content": text}]
    return SYSTEM_PROMPT + "\n\n" + text if SYSTEM_PROMPT else text


def completion_of(value):
    text = text_of(value)
    return [{"role": "assistant", "content": text}] if CHAT else text


def to_example(row):
    if UNPAIRED:
        return {"prompt": prompt_of(row["prompt"]), "completion": completion_of(row["completion"]), "label": bool(row["label"])}
    return {"prompt": prompt_of(row["prompt"]), "chosen": completion_of(row["chosen"]), "rejected": completion_of(row["rejected"])}


dataset = dataset.map(to_example)
if EVAL_SPLIT > 0:
    split = dataset.train_test_split(test_size=EVAL_SPLIT, seed=SEED)
    train_dataset, eval_dataset = split["train"], split["test"].select(range(min(EVAL_MAX_SAMPLES, len(split["test"]))))
else:
    train_dataset, eval_dataset = dataset, None

# ---- the run ----

training_args = {{config_class}}(
    output_dir="{{output_dir}}",
{{config_kwargs}}
)
lora_config = LoraConfig(
{{lora_kwargs}}
)
model = {{model_class}}.from_pretrained(
    MODEL, {{model_kwargs}}dtype=BASE_DTYPE if BASE_DTYPE == "auto" else getattr(torch, BASE_DTYPE), quantization_config=QUANTIZATION_CONFIG
)
peft_config = lora_config
if ADAPTER and os.path.exists(os.path.join(ADAPTER, "adapter_config.json")):
    # continue from the browser's adapter; its r, alpha and target modules are in adapter_config.json
    model = PeftModel.from_pretrained(model, ADAPTER, is_trainable=True)
    peft_config = None
trainer = {{trainer_class}}(
    model=model,
    processing_class=tokenizer,
    args=training_args,
    train_dataset=train_dataset,
    eval_dataset=eval_dataset,
    peft_config=peft_config,
)
trainer.train()
trainer.save_model("{{output_dir}}/final")
