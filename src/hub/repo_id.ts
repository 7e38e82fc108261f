// Names of Hub repositories as people write them: "org/name", "org/name@revision", a huggingface.co URL
// (with /tree/REVISION), and the command line's "hf:" forms: models hf:ORG/NAME[@REVISION], datasets
// hf:ORG/NAME[:CONFIG][/SPLIT]. Every parse error says what to write instead.

export interface ModelSpec {
  /** "org/name" */
  repo: string;
  /** branch, tag or commit ("main" when not given) */
  revision: string;
}

export interface DatasetSpec {
  repo: string;
  /** null: the only config, or "default" */
  config: string | null;
  /** null: "train" when there is one, else the only split */
  split: string | null;
}

// Hub repo names: letters, digits, "-", "_", "."; an org is optional on the Hub ("gpt2") but this
// playground asks for the full id, which is how models are named today.
const PART = '[A-Za-z0-9][\\w.-]*';
const REPO = new RegExp(`^(${PART})/(${PART})$`);
const URL_RE = /^https?:\/\/[^/]+\/(?:datasets\/)?([^/]+)\/([^/?#]+)(?:\/tree\/([^?#]+?))?\/?(?:[?#].*)?$/;

export function isRepoId(s: string): boolean {
  return REPO.test(s) && !s.includes('..');
}

function checkRepo(repo: string, input: string, example: string): string {
  if (!isRepoId(repo)) throw new Error(`"${input}" is not a Hub repository id: write ORG/NAME, e.g. ${example}`);
  return repo;
}

/** "hf:org/name@rev", "org/name@rev", "org/name" or https://huggingface.co/org/name[/tree/rev]. */
export function parseModelSpec(input: string): ModelSpec {
  const s = input.trim().replace(/^hf:/, '');
  const url = s.includes('://') ? URL_RE.exec(s) : null;
  if (url) return { repo: checkRepo(`${url[1]}/${url[2]}`, input, 'Qwen/Qwen3-0.6B'), revision: url[3] ? decodeURIComponent(url[3]) : 'main' };
  const at = s.indexOf('@');
  const repo = at < 0 ? s : s.slice(0, at);
  const revision = at < 0 ? 'main' : s.slice(at + 1);
  if (at >= 0 && !/^[\w./-]+$/.test(revision)) throw new Error(`"${input}": the revision after @ must be a branch, tag or commit, e.g. Qwen/Qwen3-0.6B@main`);
  return { repo: checkRepo(repo, input, 'Qwen/Qwen3-0.6B or Qwen/Qwen3-0.6B@main'), revision };
}

/** "hf:org/name[:config][/split]" (also without "hf:"). */
export function parseDatasetSpec(input: string): DatasetSpec {
  const s = input.trim().replace(/^hf:/, '');
  const url = s.includes('://') ? URL_RE.exec(s) : null;
  if (url) return { repo: checkRepo(`${url[1]}/${url[2]}`, input, 'openai/gsm8k'), config: null, split: null };
  const m = /^([^/:]+\/[^/:]+)(?::([^/]+))?(?:\/([^/]+))?$/.exec(s);
  if (!m) throw new Error(`"${input}" is not a Hub dataset: write ORG/NAME[:CONFIG][/SPLIT], e.g. hf:openai/gsm8k:main/train`);
  return { repo: checkRepo(m[1], input, 'openai/gsm8k:main/train'), config: m[2] ?? null, split: m[3] ?? null };
}

/** The spec back as text (what the command line and the page show). */
export function formatModelSpec(m: ModelSpec): string {
  return m.revision === 'main' ? m.repo : `${m.repo}@${m.revision}`;
}

export function formatDatasetSpec(d: { repo: string; config: string | null; split: string | null }): string {
  return `${d.repo}${d.config ? `:${d.config}` : ''}${d.split ? `/${d.split}` : ''}`;
}
