// Names of Hub repositories as people write them: "org/name", "org/name@revision", a huggingface.co URL
// (with /tree/REVISION), and the command line's "hf:" forms: models hf:ORG/NAME[@REVISION][:GGUF], datasets
// hf:ORG/NAME[:CONFIG][/SPLIT]. A model's ":GGUF" picks one GGUF file of a repository of them, by its
// quantisation (":Q4_K_M", as llama.cpp's -hf and Ollama's hf.co/ names write it) or its path (":x/m.gguf").
// Every parse error says what to write instead.

export interface ModelSpec {
  /** "org/name" */
  repo: string;
  /** branch, tag or commit ("main" when not given) */
  revision: string;
  /** a GGUF file of the repository, by quantisation (Q4_K_M) or path (src/hub/gguf_choice.ts); absent: none named */
  file?: string;
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

/** A GGUF choice after ":": a quantisation name or a relative path to a .gguf (checked against the listing later). */
const GGUF_CHOICE = /^[\w.+-]+(?:\/[\w.+-]+)*$/;

/** "hf:org/name@rev[:Q4_K_M]", "org/name@rev", "org/name" or https://huggingface.co/org/name[/tree/rev]. */
export function parseModelSpec(input: string): ModelSpec {
  let s = input.trim().replace(/^hf:/, '');
  const url = s.includes('://') ? URL_RE.exec(s) : null;
  if (url) return { repo: checkRepo(`${url[1]}/${url[2]}`, input, 'Qwen/Qwen3-0.6B'), revision: url[3] ? decodeURIComponent(url[3]) : 'main' };
  let file: string | undefined;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    file = s.slice(colon + 1);
    s = s.slice(0, colon);
    if (file.length > 256 || !GGUF_CHOICE.test(file) || file.split('/').some((p) => p === '.' || p === '..')) {
      throw new Error(`"${input}": after ":" name one GGUF file of the repository by its quantisation or path, e.g. unsloth/Qwen3-0.6B-GGUF:Q4_K_M`);
    }
  }
  const at = s.indexOf('@');
  const repo = at < 0 ? s : s.slice(0, at);
  const revision = at < 0 ? 'main' : s.slice(at + 1);
  if (at >= 0 && !/^[\w./-]+$/.test(revision)) throw new Error(`"${input}": the revision after @ must be a branch, tag or commit, e.g. Qwen/Qwen3-0.6B@main`);
  return { repo: checkRepo(repo, input, 'Qwen/Qwen3-0.6B or Qwen/Qwen3-0.6B@main'), revision, ...(file !== undefined ? { file } : {}) };
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
  return `${m.revision === 'main' ? m.repo : `${m.repo}@${m.revision}`}${m.file !== undefined ? `:${m.file}` : ''}`;
}

export function formatDatasetSpec(d: { repo: string; config: string | null; split: string | null }): string {
  return `${d.repo}${d.config ? `:${d.config}` : ''}${d.split ? `/${d.split}` : ''}`;
}
