// Text helpers shared by the built-in rewards (and config's "did you mean" hints): normalisation, the final
// answer of a completion (\boxed{...} or <answer>...</answer>), numbers written the way people write them,
// and Levenshtein distance.

export interface NormalizeOptions {
  /** compare without regard to case (default true) */
  caseInsensitive?: boolean;
  /** drop trailing . , ; : ! ? and closing whitespace (default true) */
  stripTrailingPunctuation?: boolean;
}

/** Trim, collapse runs of whitespace to one space, optionally lower-case and strip trailing punctuation. */
export function normalizeText(s: string, opts: NormalizeOptions = {}): string {
  let t = s.replace(/\s+/g, ' ').trim();
  if (opts.stripTrailingPunctuation ?? true) t = t.replace(/[\s.,;:!?。，；：！？]+$/u, '');
  if (opts.caseInsensitive ?? true) t = t.toLowerCase();
  return t;
}

/** Contents of the last \boxed{...} (or \fbox{...}), with nested braces balanced; null when there is none
 * or it is never closed. */
export function extractBoxed(s: string): string | null {
  const re = /\\(?:boxed|fbox)\s*\{/g;
  let last: string | null = null;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    let depth = 1;
    let i = m.index + m[0].length;
    const start = i;
    for (; i < s.length && depth > 0; i++) {
      if (s[i] === '{') depth++;
      else if (s[i] === '}') depth--;
    }
    if (depth === 0) last = s.slice(start, i - 1);
  }
  return last;
}

/** Contents of the last <answer>...</answer>; null when there is none. */
export function extractAnswerTag(s: string): string | null {
  const re = /<answer>([\s\S]*?)<\/answer>/gi;
  let last: string | null = null;
  for (let m = re.exec(s); m; m = re.exec(s)) last = m[1];
  return last;
}

/** What a completion gives as its final answer: the last \boxed{...}, else the last <answer>...</answer>,
 * else null (the caller decides what to use instead). */
export function extractFinalAnswer(s: string): string | null {
  return extractBoxed(s) ?? extractAnswerTag(s);
}

// A number as people write it: optional sign (ASCII or Unicode minus), digits with optional thousands
// commas (1,234,567 — only well-formed groups), optional decimals and exponent, or a fraction a/b.
// Not preceded by a letter, digit or dot: "x2" and "v1.5" hold no number, and "5-10" reads as 5 and 10,
// not 5 and -10. A unit after the number ("5km", "3rd") does not stop it from reading.
const NUMBER_RE =
  /(?<![\p{L}\p{N}.])([-−+]?)(?=\.?\d)(\d{1,3}(?:,\d{3})+(?!\d)|\d+)?(\.\d+)?(?:[eE]([-+]?\d+))?(?:\s*\/\s*(\d+))?/gu;

/** Every number in the text, in order of appearance, as values. Handles 1,234.5, -3, −3, .5, 1e-3, 3/4. */
export function findNumbers(s: string): number[] {
  const out: number[] = [];
  const text = s.replace(/\\[dt]?frac\s*\{\s*([-−]?\d+)\s*\}\s*\{\s*(\d+)\s*\}/g, '$1/$2');
  NUMBER_RE.lastIndex = 0;
  for (let m = NUMBER_RE.exec(text); m; m = NUMBER_RE.exec(text)) {
    const [whole, sign, int, frac, exp, denom] = m;
    if (int === undefined && frac === undefined) {
      if (whole.length === 0) NUMBER_RE.lastIndex++;
      continue;
    }
    let v = Number(`${(int ?? '0').replace(/,/g, '')}${frac ?? ''}${exp !== undefined ? `e${exp}` : ''}`);
    if (denom !== undefined && frac === undefined && exp === undefined) {
      const d = Number(denom);
      if (d === 0) continue;
      v /= d;
    }
    if (sign === '-' || sign === '−') v = -v;
    if (Number.isFinite(v)) out.push(v);
  }
  return out;
}

/** The last number in the text, or null. */
export function lastNumber(s: string): number | null {
  const all = findNumbers(s);
  return all.length ? all[all.length - 1] : null;
}

/** Edit distance (insertions, deletions, substitutions of UTF-16 code units), two rows of memory. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  if (a.length < b.length) [a, b] = [b, a];
  let prev = new Uint32Array(b.length + 1);
  let cur = new Uint32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** The candidate closest to `word` by edit distance, if it is close enough to be a plausible typo. */
export function closestMatch(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = levenshtein(w, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === null) return null;
  const contains = best.toLowerCase().includes(w) || w.includes(best.toLowerCase());
  return bestD <= Math.max(2, Math.floor(Math.max(w.length, best.length) / 3)) || contains ? best : null;
}
