// The Hub as this playground talks to it: an endpoint (https://huggingface.co, HF_ENDPOINT, or the page's
// setting), an optional access token, and a fetch that sends the token to the endpoint's own origin only
// (never to the CDN a file redirects to, nor anywhere else). Listing and file lookups go through
// @huggingface/hub (listFiles, fileDownloadInfo); its errors become one message naming the repository and
// saying what to do (hubErrorMessage).

import { fileDownloadInfo, listFiles, HubApiError } from '@huggingface/hub';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export type RepoKind = 'model' | 'dataset';

export interface HubOptions {
  /** e.g. https://huggingface.co (a trailing slash is dropped) */
  endpoint?: string;
  /** a Hugging Face access token (hf_...), sent as `Authorization: Bearer` to the endpoint only */
  token?: string | null;
  /** where a person puts a token, for messages: "the access token field", "HF_TOKEN" */
  tokenHint?: string;
  fetch?: typeof fetch;
}

export interface RepoFile {
  path: string;
  size: number;
  /** the file's version: its LFS sha256 when it has one, else its git blob id */
  oid: string;
}

/** What was being done when the Hub said no, for the message. */
export interface HubContext {
  kind: RepoKind;
  repo: string;
  revision?: string;
  file?: string;
}

/** A failure already worded for a person (repo, file, what to do). */
export class HubError extends Error {
  constructor(
    message: string,
    readonly status: number | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

export function normalizeEndpoint(endpoint: string | undefined): string {
  const e = (endpoint ?? '').trim() || DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(e);
  } catch {
    throw new HubError(`the Hub endpoint "${e}" is not a URL (e.g. ${DEFAULT_ENDPOINT})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new HubError(`the Hub endpoint "${e}" must be an http(s) URL`);
  return url.href.replace(/\/+$/, '');
}

function urlOf(input: RequestInfo | URL): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}

export class HubClient {
  readonly endpoint: string;
  readonly hasToken: boolean;
  private readonly origin: string;
  private readonly token: string | null;
  private readonly tokenHint: string;
  private readonly baseFetch: typeof fetch;
  /** X-Error-Code of failed responses by URL (the library's error keeps the status, not the headers) */
  private readonly errorCodes = new Map<string, string>();

  constructor(opts: HubOptions = {}) {
    this.endpoint = normalizeEndpoint(opts.endpoint);
    this.origin = new URL(this.endpoint).origin;
    this.token = opts.token?.trim() || null;
    this.hasToken = this.token !== null;
    this.tokenHint = opts.tokenHint ?? 'an access token';
    this.baseFetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** fetch, with the token added for the endpoint's origin and removed for any other. */
  readonly fetch: typeof fetch = async (input, init) => {
    const url = urlOf(input);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (this.token && new URL(url, this.endpoint).origin === this.origin) headers.set('Authorization', `Bearer ${this.token}`);
    else headers.delete('Authorization');
    const res = await this.baseFetch(url, { ...init, headers });
    if (!res.ok) {
      const code = res.headers.get('x-error-code');
      if (code) {
        this.errorCodes.set(url, code);
        if (res.url) this.errorCodes.set(res.url, code);
      }
    }
    return res;
  };

  /** A repository's URL on the endpoint (for messages and links). */
  repoUrl(kind: RepoKind, repo: string): string {
    return `${this.endpoint}/${kind === 'dataset' ? 'datasets/' : ''}${repo}`;
  }

  /** Every file of the repository at the revision, with sizes (the tree API, paged). */
  async listRepoFiles(kind: RepoKind, repo: string, revision: string): Promise<RepoFile[]> {
    const out: RepoFile[] = [];
    try {
      for await (const e of listFiles({ repo: { type: kind, name: repo }, revision, recursive: true, hubUrl: this.endpoint, fetch: this.fetch })) {
        if (e.type === 'file') out.push({ path: e.path, size: e.lfs?.size ?? e.size, oid: e.lfs?.oid ?? e.oid ?? '' });
      }
    } catch (e) {
      throw this.explain(e, { kind, repo, revision });
    }
    return out;
  }

  /** Where a file downloads from (the resolve URL, or the CDN URL on the same origin), its size and ETag. */
  async fileInfo(kind: RepoKind, repo: string, revision: string, path: string): Promise<{ url: string; size: number; etag: string }> {
    let info;
    try {
      info = await fileDownloadInfo({ repo: { type: kind, name: repo }, path, revision, hubUrl: this.endpoint, fetch: this.fetch });
    } catch (e) {
      throw this.explain(e, { kind, repo, revision, file: path });
    }
    if (!info) throw new HubError(`${repo}: ${path} is not in the repository at revision ${revision} (404 EntryNotFound)`, 404, 'EntryNotFound');
    return { url: info.url, size: info.size, etag: info.etag.replace(/^W\//, '').replace(/"/g, '') };
  }

  /** GET a JSON document of the endpoint's API, e.g. /api/datasets/{repo}/parquet. */
  async getJson(path: string, ctx: HubContext): Promise<unknown> {
    const url = `${this.endpoint}${path}`;
    let res: Response;
    try {
      res = await this.fetch(url, { headers: { accept: 'application/json' } });
    } catch (e) {
      throw this.explain(e, ctx);
    }
    if (!res.ok) {
      let message = '';
      try {
        const body = (await res.json()) as { error?: string };
        message = body.error ?? '';
      } catch {
        // not JSON: the status says enough
      }
      throw this.failure(res.status, res.headers.get('x-error-code'), message, ctx);
    }
    try {
      return await res.json();
    } catch (e) {
      throw new HubError(`${ctx.repo}: ${url} did not answer JSON (${(e as Error).message})`);
    }
  }

  /** Any error of a Hub request as a HubError with a message for a person. */
  explain(e: unknown, ctx: HubContext): HubError {
    if (e instanceof HubError) return e;
    if (e instanceof HubApiError) {
      const body = e.data as { error?: unknown } | undefined;
      const message = typeof body?.error === 'string' ? body.error : '';
      return this.failure(e.statusCode, this.errorCodes.get(e.url) ?? null, message, ctx);
    }
    const msg = e instanceof Error ? e.message : String(e);
    return new HubError(`${ctx.repo}: could not reach the Hub at ${this.endpoint} (${msg}); check the address and your connection`);
  }

  /** The message for an HTTP failure of the Hub. */
  failure(status: number, code: string | null, serverMessage: string, ctx: HubContext): HubError {
    const what = ctx.kind === 'dataset' ? 'dataset' : 'model';
    const said = serverMessage ? ` ("${serverMessage.slice(0, 200)}")` : '';
    const where = this.repoUrl(ctx.kind, ctx.repo);
    const settings = `${this.endpoint}/settings/tokens`;
    if (code === 'RevisionNotFound') return new HubError(`${ctx.repo}: there is no revision "${ctx.revision}" (branch, tag or commit)`, status, code);
    if (code === 'EntryNotFound' && ctx.file) return new HubError(`${ctx.repo}: ${ctx.file} is not in the repository (404 EntryNotFound)`, status, code);
    if (status === 404) {
      return new HubError(`${ctx.repo}: no such ${what} on ${this.endpoint} (${status}${code ? ` ${code}` : ''}); check the name (ORG/NAME, as in ${where})`, status, code);
    }
    if (status === 401 || status === 403) {
      if (code === 'RepoNotFound') {
        return new HubError(
          this.hasToken
            ? `${ctx.repo}: not found, or the access token cannot read it (${status}); check the name and the token's permissions at ${settings}`
            : `${ctx.repo}: no such ${what} on ${this.endpoint}, or it is private (the Hub answers ${status} to both without a token); check the name, and for a private ${what} give ${this.tokenHint}`,
          status,
          code,
        );
      }
      return new HubError(
        this.hasToken
          ? `${ctx.repo} is gated or private and the access token was refused (${status}${said}): request access at ${where} with the account of the token, wait until it is granted, and check that the token can read it (${settings})`
          : `${ctx.repo} is gated or private (${status}${said}): request access at ${where} (gated ${what}s ask you to accept their terms), create a read token at ${settings}, and give it as ${this.tokenHint}`,
        status,
        code,
      );
    }
    return new HubError(`${ctx.repo}${ctx.file ? `: ${ctx.file}` : ''}: the Hub answered ${status}${code ? ` ${code}` : ''}${said}`, status, code);
  }
}
