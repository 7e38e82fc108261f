// Zip archives with fflate: the adapter folder (and the run's other files) as one download, and reading
// an adapter back from a .zip.

import { strToU8, unzipSync, zipSync, type Zippable } from 'fflate';

/** One .zip of named files (text or bytes); names may contain folders ("run/metrics.csv"). */
export function makeZip(files: Record<string, string | Uint8Array>): Uint8Array {
  const entries: Zippable = {};
  for (const [name, content] of Object.entries(files)) {
    const bytes = typeof content === 'string' ? strToU8(content) : content;
    // safetensors of random-looking floats barely compress: store them, deflate the text files
    entries[name] = [bytes, { level: name.endsWith('.safetensors') ? 0 : 6 }];
  }
  return zipSync(entries);
}

/** The files of a .zip, by path. Throws when the bytes are not a zip archive. */
export function readZip(bytes: Uint8Array): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes);
  } catch (e) {
    throw new Error(`not a readable .zip archive: ${(e as Error).message}`);
  }
}

/** The PEFT adapter inside a zip (at its root or in one folder), or what is missing. */
export function adapterFromZip(bytes: Uint8Array): { weights: Uint8Array; config: string } {
  const files = readZip(bytes);
  const find = (base: string) => Object.keys(files).filter((p) => p === base || p.endsWith(`/${base}`)).sort((a, b) => a.length - b.length)[0];
  const w = find('adapter_model.safetensors');
  const c = find('adapter_config.json');
  if (!w || !c) {
    const missing = [!w && 'adapter_model.safetensors', !c && 'adapter_config.json'].filter(Boolean).join(' and ');
    throw new Error(`the .zip has no ${missing}; it holds ${Object.keys(files).join(', ') || 'nothing'}`);
  }
  return { weights: files[w], config: new TextDecoder().decode(files[c]) };
}
