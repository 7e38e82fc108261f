
# ---- which prompts, in which order (pass_rate_band, curriculum): the playground's selection of the training split ----
PASS_RATE_BAND = {{band}}  # (lo, hi, lo_open, hi_open) or None
CURRICULUM = {{curriculum}}
CURRICULUM_COLUMN = {{column}}
if {{needs_scan}} and "pass_rate" not in train_dataset.column_names:
    raise SystemExit(
        "pass_rate_band / curriculum \"easy_to_hard\" need each prompt's pass rate from a difficulty scan: export with "
        "grpo-playground export-trl --scan SCAN.jsonl, which writes it into the dataset as the pass_rate column"
    )


def in_band(p):
    lo, hi, lo_open, hi_open = PASS_RATE_BAND
    return p is not None and (p > lo if lo_open else p >= lo) and (p < hi if hi_open else p <= hi)


if PASS_RATE_BAND is not None:
    before = len(train_dataset)
    train_dataset = train_dataset.filter(lambda row: in_band(row["pass_rate"]))
    print(f"pass_rate_band: {len(train_dataset)} of {before} training prompts kept")
    if len(train_dataset) == 0:
        raise SystemExit("pass_rate_band keeps no training prompt")


def as_number(v):
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(str(v)) if str(v).strip() else None
    except ValueError:
        return None


if CURRICULUM == "easy_to_hard":
    # highest pass rate first; ties keep the file's order
    rates = train_dataset["pass_rate"]
    if any(r is None for r in rates):
        raise SystemExit("curriculum \"easy_to_hard\": a training prompt has no pass rate (not in the scan)")
    train_dataset = train_dataset.select(sorted(range(len(rates)), key=lambda i: (-rates[i], i)))
elif CURRICULUM == "by_column":
    values = train_dataset[CURRICULUM_COLUMN]
    if any(v is None or v == "" for v in values):
        raise SystemExit(f"curriculum \"by_column\": a training prompt has no value in column {CURRICULUM_COLUMN!r}")
    numbers = [as_number(v) for v in values]
    if all(n is not None for n in numbers):
        keys = numbers  # numbers (and numeric text) numerically
    elif any(isinstance(v, (int, float)) for v in values):
        raise SystemExit(f"curriculum \"by_column\": column {CURRICULUM_COLUMN!r} mixes numbers and text")
    else:
        keys = [str(v) for v in values]
    train_dataset = train_dataset.select(sorted(range(len(keys)), key=lambda i: (keys[i], i)))
