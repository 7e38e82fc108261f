// A Hub repository of GGUF files (one per quantisation: Qwen3-0.6B-Q4_K_M.gguf, ...-Q8_0.gguf) as a choice:
// each loadable file with its quantisation, read from its name, and its size from the listing. The listing is
// somebody else's: names are bounded and checked as repository paths (no "..", no control characters) before
// they are offered, shown or fetched; split files (-00001-of-00003.gguf, which the loader cannot join) and
// vision projectors (mmproj) are set aside and counted. The file's own header decides what it holds; the
// name's quantisation is a label (a Q4_K_M file keeps some tensors in Q6_K).

import { HubError, type RepoFile } from './client';
import { formatSize } from './download';
import { checkListedSize, checkRepoPath } from './verify';

export interface GgufChoice {
  path: string;
  size: number;
  oid: string;
  /** the quantisation its name gives ("Q4_K_M", "IQ4_XS", "BF16"), upper case; null when the name gives none */
  quant: string | null;
}

export interface GgufChoices {
  choices: GgufChoice[];
  /** GGUF files not offered, by why ("split files (...)", "vision projectors (mmproj)", "unsafe names", ...) */
  skipped: { why: string; count: number }[];
}

/** At most this many GGUF files are offered (a repository of GGUFs holds a few dozen at most). */
export const MAX_GGUF_CHOICES = 200;

const SPLIT = /-\d{5}-of-\d{5}\.gguf$/i;
const QUANT = /^(?:UD-)?(?:I?Q\d+(?:_[A-Z0-9]+)*|TQ\d_\d|BF16|F16|F32|FP16|FP32|MXFP4(?:_MOE)?)$/i;

/** The quantisation a GGUF file's name gives: its last "-" / "." separated part that names one
 * ("Qwen3-0.6B-Q4_K_M.gguf" -> "Q4_K_M", "model.q8_0.gguf" -> "Q8_0", "x-UD-Q4_K_XL.gguf" -> "UD-Q4_K_XL"). */
export function ggufQuantName(path: string): string | null {
  const base = path.slice(path.lastIndexOf('/') + 1).replace(/\.gguf$/i, '');
  const parts = base.split(/[-.]/);
  for (let i = parts.length - 1; i >= 0; i--) {
    if (!QUANT.test(parts[i])) continue;
    const q = parts[i].toUpperCase();
    return i > 0 && parts[i - 1].toUpperCase() === 'UD' ? `UD-${q}` : q;
  }
  return null;
}

/** The GGUF files of a listing that can be offered, in the listing's order of size (smallest first). */
export function ggufChoices(listing: RepoFile[]): GgufChoices {
  const skipped = new Map<string, number>();
  const skip = (why: string) => skipped.set(why, (skipped.get(why) ?? 0) + 1);
  const choices: GgufChoice[] = [];
  for (const f of listing) {
    if (typeof f.path !== 'string' || !/\.gguf$/i.test(f.path)) continue;
    try {
      checkRepoPath(f.path, 'GGUF file');
    } catch {
      skip('unsafe names');
      continue;
    }
    const base = f.path.slice(f.path.lastIndexOf('/') + 1);
    if (SPLIT.test(base)) skip('split files (several parts; not read here)');
    else if (/mmproj/i.test(base)) skip('vision projectors (mmproj)');
    else if (typeof f.size !== 'number' || !Number.isSafeInteger(f.size) || f.size < 0) skip('without a size in the listing');
    else if (choices.length >= MAX_GGUF_CHOICES) skip(`beyond the first ${MAX_GGUF_CHOICES}`);
    else choices.push({ path: f.path, size: f.size, oid: f.oid, quant: ggufQuantName(f.path) });
  }
  choices.sort((a, b) => a.size - b.size || (a.path < b.path ? -1 : 1));
  return { choices, skipped: [...skipped].map(([why, count]) => ({ why, count })) };
}

/** "split files (...): 2; unsafe names: 1" */
export function describeSkipped(g: GgufChoices): string {
  return g.skipped.map((s) => `${s.why}: ${s.count}`).join('; ');
}

/** "Q4_K_M 1.2 GB (Qwen3-0.6B-Q4_K_M.gguf)" */
export function describeChoice(c: GgufChoice): string {
  return `${c.quant ?? 'no quantisation in its name'} ${formatSize(c.size)} (${c.path})`;
}

/** What to write to pick `c` after "hf:ORG/NAME:": its quantisation when that names one file, else its path. */
export function choiceKey(c: GgufChoice, all: GgufChoice[]): string {
  return c.quant && all.filter((o) => o.quant === c.quant).length === 1 ? c.quant : c.path;
}

/** The file `want` names (a path, or a quantisation that one file has, case-insensitive); with no `want`, the only
 * file, else null (the caller asks). A name that matches nothing, or several, is refused with the choices. */
export function pickGguf(g: GgufChoices, want: string | undefined, repo: string): GgufChoice | null {
  const list = () => g.choices.map((c) => `${choiceKey(c, g.choices)} (${formatSize(c.size)})`).join(', ');
  if (want === undefined) {
    if (g.choices.length === 1) return g.choices[0];
    return null;
  }
  const byPath = g.choices.find((c) => c.path === want);
  if (byPath) return byPath;
  const byQuant = g.choices.filter((c) => c.quant !== null && c.quant === want.toUpperCase());
  if (byQuant.length === 1) return byQuant[0];
  if (byQuant.length > 1) throw new HubError(`${repo}: several GGUF files are ${want.toUpperCase()} (${byQuant.map((c) => c.path).join(', ')}): name one by its path, e.g. ${repo}:${byQuant[0].path}`);
  throw new HubError(`${repo} has no GGUF file ${JSON.stringify(want)}; its GGUF files: ${list() || 'none'}`);
}

/** The message when a repository of several GGUF files was named without a choice. */
export function chooseMessage(g: GgufChoices, repoSpec: string): string {
  const first = g.choices[0];
  return (
    `${repoSpec} holds ${g.choices.length} GGUF files, one per quantisation: pick one by writing it after ":", e.g. hf:${repoSpec}:${choiceKey(first, g.choices)}. ` +
    `Its GGUF files: ${g.choices.map((c) => `${choiceKey(c, g.choices)} (${formatSize(c.size)})`).join(', ')}`
  );
}

/** A chosen file's size, checked (the listing's). */
export function checkedChoice(c: GgufChoice, repo: string): GgufChoice {
  checkRepoPath(c.path, `${repo}: the file`);
  checkListedSize(c.size, `${repo}: ${c.path}`);
  return c;
}
