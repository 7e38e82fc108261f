// The run's configuration (TRL's names, src/grpo/config.ts). The page opens with the demo's config; edits
// are kept as typed even when invalid (the settings panel flags them with validateConfig's reasons, and
// Start stays disabled until they are fixed).

import type { StateCreator } from 'zustand';
import { cloneConfig, parseConfigJson, summaryValidationContext, type GrpoConfig } from '../../grpo/config';
import { applyPreset } from '../../grpo/presets';
import { DEFAULT_DEMO_DATASET_ID, demoConfig } from '../../demo/builtin';
import type { AppState } from './types';

const PROMPT_FIELDS: readonly (keyof GrpoConfig)[] = ['system_prompt', 'prompt_template', 'use_chat_template'];

export interface ConfigSlice {
  config: GrpoConfig;
  setConfigField<K extends keyof GrpoConfig>(key: K, value: GrpoConfig[K]): void;
  replaceConfig(config: GrpoConfig): void;
  applyPreset(id: string): void;
  /** back to the demo's config for the selected demo dataset (or the main demo) */
  resetConfig(): void;
  /** reads a config JSON (TRL names); throws with every problem */
  importConfigJson(text: string, source: string): void;
}

let tokenTimer: ReturnType<typeof setTimeout> | null = null;

export const createConfigSlice: StateCreator<AppState, [], [], ConfigSlice> = (set, get) => {
  const promptChanged = () => {
    if (tokenTimer) clearTimeout(tokenTimer);
    tokenTimer = setTimeout(() => void get().refreshTokenLengths(), 400);
  };
  return {
    config: demoConfig(DEFAULT_DEMO_DATASET_ID),
    setConfigField(key, value) {
      set((s) => ({ config: { ...s.config, [key]: value } }));
      if (PROMPT_FIELDS.includes(key)) promptChanged();
      // a preference algorithm reads the dataset as pairs (or KTO's labelled completions)
      if (key === 'algorithm') {
        void get().reparseForAlgorithm();
        void get().rereadEvalFileForAlgorithm();
      }
    },
    replaceConfig(config) {
      set({ config: cloneConfig(config) });
      promptChanged();
      // a restored preference run's test file: read as its algorithm needs (nothing when the kind is the same)
      void get().rereadEvalFileForAlgorithm();
    },
    applyPreset(id) {
      set((s) => ({ config: applyPreset(s.config, id) }));
    },
    resetConfig() {
      const src = get().datasetSource;
      const id = src?.kind === 'demo' ? src.id : DEFAULT_DEMO_DATASET_ID;
      set({ config: demoConfig(id) });
      promptChanged();
    },
    importConfigJson(text, source) {
      get().replaceConfig(parseConfigJson(text, source, summaryValidationContext(get().modelSummary)));
    },
  };
};
