# ---- reward helpers: the playground's built-in rewards in Python (src/grpo/rewards) ----

NUMBER_RE = re.compile(
    r"(?<![^\W\d_])(?<![\d.])([-\u2212+]?)(?=\.?\d)(\d{1,3}(?:,\d{3})+(?!\d)|\d+)?(\.\d+)?(?:[eE]([-+]?\d+))?(?:\s*/\s*(\d+))?"
)


def completion_text(completion):
    """A completion is a string, or (conversational datasets) a list of messages."""
    if isinstance(completion, list):
        return completion[-1]["content"] if completion else ""
    return completion


def normalize(s, case_insensitive=True, strip_punctuation=True):
    t = re.sub(r"\s+", " ", s).strip()
    if strip_punctuation:
        t = re.sub(r"[\s.,;:!?\u3002\uff0c\uff1b\uff1a\uff01\uff1f]+$", "", t)
    return t.lower() if case_insensitive else t


def extract_boxed(s):
    last = None
    for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", s):
        depth, i = 1, m.end()
        start = i
        while i < len(s) and depth > 0:
            depth += {"{": 1, "}": -1}.get(s[i], 0)
            i += 1
        if depth == 0:
            last = s[start : i - 1]
    return last


def extract_answer_tag(s):
    found = re.findall(r"<answer>([\s\S]*?)</answer>", s, flags=re.IGNORECASE)
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
    s = re.sub(r"\\[dt]?frac\s*\{\s*([-\u2212]?\d+)\s*\}\s*\{\s*(\d+)\s*\}", r"\1/\2", s)
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
        if sign in ("-", "\u2212"):
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


def answer_key(completion, extract="auto", case_sensitive=False):
    """The answer a completion gives (None when it gives none), as majority_vote compares answers."""
    if extract == "number":
        region = extract_boxed(completion)
        region = extract_answer_tag(completion) if region is None else region
        return last_number(completion if region is None else region)
    final = extract_final(completion)
    if final is None and extract == "tag":
        return None
    key = normalize(completion if final is None else final, not case_sensitive, True)
    return key if key != "" else None


def make_majority_vote(name, extract="auto", case_sensitive=False):
    """1 when the completion's answer is the most common answer of its group, else 0; no answer scores 0 and
    does not vote; every answer tied for the most votes counts. TRL calls a reward function once with the
    whole generation batch (num_generations completions per prompt, prompts repeated), so the groups are
    rebuilt here by prompt. On several processes each holds part of the batch: run it on one."""

    def reward(prompts, completions, **kwargs):
        keys = [answer_key(c, extract, case_sensitive) for c in map(completion_text, completions)]
        groups = [p if isinstance(p, str) else repr(p) for p in prompts]
        counts = {}
        for g, k in zip(groups, keys):
            if k is not None:
                counts.setdefault(g, {})
                counts[g][k] = counts[g].get(k, 0) + 1
        out = []
        for g, k in zip(groups, keys):
            votes = counts.get(g, {})
            out.append(0.0 if k is None else float(votes[k] == max(votes.values())))
        return out

    return named(name, reward)
