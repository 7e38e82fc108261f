// What the Hub (or whatever answers at its address) sends is checked before it is kept, by the page's cache
// and the command line's alike: the names that become cache paths (a listing's file paths, shard names, a
// parquet URL's last segment, config and split names) are validated (no "..", no separators inside a
// segment, no absolute paths, no control characters; checked after URL-decoding), and a finished download
// must have the listing's size and hash before it is stored.
//
// Hashes: the listing's oid is the LFS sha256 (64 hex digits) for LFS files, else the git blob id (40 hex
// digits: sha1 of "blob SIZE\0" + bytes); both are checked. Xet-backed files are listed with their LFS
// sha256 as well, so they are checked the same way; a listing that gives neither (an oid in another form)
// leaves the size as the only check. Hashing uses WebCrypto (crypto.subtle), present in Node and in the
// page's secure context; where it is absent (a page served over plain http from another host), only the
// size is checked.

import type { CachedData } from './cache';
import { HubError } from './client';

const dataSize = (d: CachedData) => (d instanceof Uint8Array ? d.byteLength : d.size);
const dataBytes = async (d: CachedData) => (d instanceof Uint8Array ? d : new Uint8Array(await d.arrayBuffer()));

/** Downloads whose size nobody stated (parquet files of a dataset) stop at this many bytes. */
export const MAX_UNKNOWN_SIZE = 2 * 1024 ** 3;

/** A name or a download that cannot be trusted (a download's partial file has been discarded). */
export class IntegrityError extends HubError {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}

// C0 controls, DEL, C1 controls, and the characters some readers take for line or path breaks
const BAD_CHARS = /[\x00-\x1f\x7f-\x9f\u2028\u2029\\:*?"<>|]/;

/** One path segment (a file or folder name) that cannot leave its folder. */
export function checkSegment(segment: string, what: string): string {
  if (typeof segment !== 'string' || segment === '' || segment === '.' || segment === '..' || segment.includes('/') || BAD_CHARS.test(segment) || segment.length > 255) {
    throw new IntegrityError(`${what}: ${JSON.stringify(segment)} is not a safe file name (no "/", "\\", "..", control characters or : * ? " < > |)`);
  }
  return segment;
}

/** A relative path inside a repository ("a/b.json"): each segment safe, not absolute, not empty. */
export function checkRepoPath(path: string, what: string): string {
  if (typeof path !== 'string' || path === '' || path.startsWith('/') || path.length > 1024) {
    throw new IntegrityError(`${what}: ${JSON.stringify(path)} is not a relative file path inside the repository`);
  }
  for (const s of path.split('/')) checkSegment(s, `${what} ${JSON.stringify(path)}`);
  return path;
}

/** The last segment of a URL's path, URL-decoded once and then checked (so "%2E%2E%2F" cannot climb). */
export function urlFileName(url: string, what: string): string {
  let name: string;
  try {
    name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  } catch {
    throw new IntegrityError(`${what}: ${JSON.stringify(url)} is not a URL with a file name`);
  }
  return checkSegment(name, `${what} (from ${url})`);
}

/** A size a listing gives: a whole number of bytes, else an error naming the file. */
export function checkListedSize(size: unknown, what: string): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new IntegrityError(`${what}: the listing gives no usable size (${JSON.stringify(size)}); a file without a stated size is not downloaded`);
  }
  return size;
}

type Hash = { algorithm: 'SHA-256' | 'SHA-1'; hex: string; label: string };

/** The hash a listing's oid promises, or null when it is not one this checks. */
export function expectedHash(oid: string | null): Hash | null {
  if (!oid) return null;
  const o = oid.toLowerCase();
  if (/^[0-9a-f]{64}$/.test(o)) return { algorithm: 'SHA-256', hex: o, label: 'sha256' };
  if (/^[0-9a-f]{40}$/.test(o)) return { algorithm: 'SHA-1', hex: o, label: 'git blob sha1' };
  return null;
}

const toHex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');

/** Whether this runtime can hash (WebCrypto). */
export function canHash(): boolean {
  return typeof globalThis.crypto?.subtle?.digest === 'function';
}

/** Checks a finished download against the listing: its size, then its hash (when known and hashable). */
export async function verifyDownload(data: CachedData, expected: { size: number | null; oid: string | null }, name: string): Promise<void> {
  const got = dataSize(data);
  if (expected.size !== null && got !== expected.size) {
    throw new IntegrityError(`${name}: ${got} bytes arrived but the listing says ${expected.size}; the download was discarded (load again to retry)`);
  }
  const hash = expectedHash(expected.oid);
  if (!hash || !canHash()) return;
  let bytes = await dataBytes(data);
  if (hash.algorithm === 'SHA-1') {
    const head = new TextEncoder().encode(`blob ${bytes.byteLength}\0`);
    const all = new Uint8Array(head.length + bytes.byteLength);
    all.set(head);
    all.set(bytes, head.length);
    bytes = all;
  }
  const digest = toHex(await globalThis.crypto.subtle.digest(hash.algorithm, bytes as Uint8Array<ArrayBuffer>));
  if (digest !== hash.hex) {
    throw new IntegrityError(`${name}: its ${hash.label} is ${digest} but the listing says ${hash.hex}; the download was discarded (corrupt or tampered; load again to retry)`);
  }
}
