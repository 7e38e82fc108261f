# ---- reward models: the playground's reward adapters (PEFT SEQ_CLS: LoRA + the score head) ----
# The playground scores with the policy's own base weights and each adapter's LoRA + head; here each reward model
# is its own merged copy of the base (TRL loads reward models as separate models).
from transformers import AutoModelForSequenceClassification


def load_reward_model(path):
    """A reward adapter folder from the playground, on MODEL, merged: the reward is the score of the last token."""
    base = AutoModelForSequenceClassification.from_pretrained(
        MODEL, num_labels=1, dtype=BASE_DTYPE if BASE_DTYPE == "auto" else getattr(torch, BASE_DTYPE)
    )
    base.config.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return PeftModel.from_pretrained(base, path).merge_and_unload().eval()


def make_reward_model_ensemble(name, paths, reduce, std_coef):
    """An ensemble of reward adapters reduced by "mean", "min" or "mean_minus_std" (mean - std_coef x population std)."""
    models = [load_reward_model(p) for p in paths]

    def reward(prompts, completions, **kwargs):
        if isinstance(prompts[0], list):
            texts = [tokenizer.apply_chat_template(p + c, tokenize=False) for p, c in zip(prompts, completions)]
        else:
            texts = [p + c for p, c in zip(prompts, completions)]
        batch = tokenizer(texts, return_tensors="pt", padding=True, padding_side="right", add_special_tokens=False)
        with torch.no_grad():
            scores = torch.stack([m(**batch.to(m.device)).logits[:, 0].float() for m in models])
        if reduce == "min":
            out = scores.min(0).values
        elif reduce == "mean":
            out = scores.mean(0)
        else:
            out = scores.mean(0) - std_coef * scores.std(0, unbiased=False)
        return out.tolist()

    reward.__name__ = name
    return reward
