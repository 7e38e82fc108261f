// Vitest's configuration: vite.config.ts's (its `test` block) plus the file order, kept here so that `vite build`
// does not load Vitest's Node API.
import { defineConfig, mergeConfig } from 'vitest/config';
import viteConfig from './vite.config.ts';
import { LongestFirstSequencer } from './test/sequencer.ts';

export default mergeConfig(viteConfig, defineConfig({ test: { sequence: { sequencer: LongestFirstSequencer } } }));
