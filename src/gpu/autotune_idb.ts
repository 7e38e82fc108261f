// The page's autotune cache (and its on/off setting): IndexedDB database "grpo-playground-autotune",
// object store "adapters" keyed by adapter key (entries by shape class), and "settings" holding
// { autotune: boolean }. Works in a page and in a Web Worker (both have IndexedDB). Storage only (no GPU
// code), so the page's GPU panel can read and write the setting; the worker's autotuner is autotune_page.ts.

import { openDB, type IDBPDatabase } from 'idb';
import type { AutotuneEntry, AutotuneStore } from './autotune';

const DB = 'grpo-playground-autotune';

function open(): Promise<IDBPDatabase> {
  return openDB(DB, 1, {
    upgrade(db) {
      db.createObjectStore('adapters');
      db.createObjectStore('settings');
    },
  });
}

export function idbAutotuneStore(): AutotuneStore {
  return {
    where: `IndexedDB ${DB}`,
    async load(key) {
      const db = await open();
      try {
        return ((await db.get('adapters', key)) as Record<string, AutotuneEntry> | undefined) ?? {};
      } finally {
        db.close();
      }
    },
    async save(key, entries) {
      const db = await open();
      try {
        await db.put('adapters', entries, key);
      } finally {
        db.close();
      }
    },
  };
}

/** The page setting: whether to autotune (default true). */
export async function readAutotuneSetting(): Promise<boolean> {
  const db = await open();
  try {
    const v = (await db.get('settings', 'autotune')) as boolean | undefined;
    return v ?? true;
  } finally {
    db.close();
  }
}

export async function writeAutotuneSetting(on: boolean): Promise<void> {
  const db = await open();
  try {
    await db.put('settings', on, 'autotune');
  } finally {
    db.close();
  }
}

/** Forgets every cached choice (the GPU panel's "re-tune" button). */
export async function clearAutotuneCache(): Promise<void> {
  const db = await open();
  try {
    await db.clear('adapters');
  } finally {
    db.close();
  }
}
