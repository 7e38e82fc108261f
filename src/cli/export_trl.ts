// `grpo-playground export-trl`: the page's TRL export without the page. Writes DIR/train_grpo.py (TRL v1.9
// + PEFT, filled from the config), the dataset beside it, DIR/adapter/ when --adapter is given (checked
// against the model first), and DIR/training_config.json.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { trlScript } from '../export/trl_script';
import { configWarnings } from '../grpo/config';
import { loadModelArg } from './sources';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../model/peft_adapter';
import { readAdapterDir } from './adapter_dir';
import { parse, requireString, UsageError } from './args';
import { readScanFile } from './scan';
import { scannedJsonl } from '../grpo/difficulty';
import { describeDataset, readConfig, readDataset } from './train';
import { isPreferenceAlgorithm } from '../grpo/config/enums';
import { PREFERENCE_TRAINERS } from '../export/trl_preference';
import { readFile } from 'node:fs/promises';
import { ToolRunner } from '../grpo/tools/runner';
import type { ToolExport } from '../export/tools_py';

export async function exportTrlCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    dataset: { type: 'string' },
    'prompt-column': { type: 'string' },
    'answer-column': { type: 'string' },
    'rejected-column': { type: 'string' },
    'label-column': { type: 'string' },
    config: { type: 'string' },
    adapter: { type: 'string' },
    out: { type: 'string' },
    tools: { type: 'string' },
    scan: { type: 'string' },
  });
  const modelPath = requireString(v, 'model');
  const dataPath = requireString(v, 'dataset');
  const outDir = requireString(v, 'out');
  // the model is read to check the config against its context length and the adapter against its shapes
  const loaded = await loadModelArg(modelPath, v.tokenizer as string | undefined);
  let toolsText: string | undefined;
  if (typeof v.tools === 'string') {
    try {
      toolsText = await readFile(v.tools, 'utf8');
    } catch {
      throw new Error(`${v.tools}: tools file not found`);
    }
  }
  const config = await readConfig(v.config as string | undefined, loaded, toolsText !== undefined ? { tools_source: toolsText } : {});
  // the tools are loaded in the sandbox (never here) for their names, descriptions, schemas and sources
  let tools: ToolExport[] | undefined;
  if ((config.tools_source ?? '').trim() !== '') {
    let runner: ToolRunner;
    try {
      runner = await ToolRunner.create(config.tools_source, null, { timeoutMs: config.tool_timeout_ms });
    } catch (e) {
      throw new Error(`${typeof v.tools === 'string' ? v.tools : 'tools_source'}: ${(e as Error).message}`);
    }
    tools = runner.tools.map((t, i) => ({ ...t, source: runner.toolSources[i] ?? '' }));
    runner.dispose();
  }
  const preference = isPreferenceAlgorithm(config.algorithm) ? PREFERENCE_TRAINERS[config.algorithm].trainer : null;
  const ds = await readDataset(dataPath, v, preference ? (config.algorithm === 'kto' ? 'unpaired' : 'preference') : undefined);
  const adapterDir = typeof v.adapter === 'string' ? v.adapter : null;
  if (adapterDir) await readAdapterDir(adapterDir, loaded.config);

  await mkdir(outDir, { recursive: true });
  // with a difficulty scan (--scan), the dataset goes out as JSONL with each row's pass_rate (null when the scan
  // has none), which the script's pass_rate_band / curriculum "easy_to_hard" read
  const scanPath = typeof v.scan === 'string' ? v.scan : undefined;
  if (!scanPath && (config.pass_rate_band !== null || config.curriculum === 'easy_to_hard')) {
    throw new UsageError(`${config.pass_rate_band !== null ? `pass_rate_band "${config.pass_rate_band}"` : 'curriculum "easy_to_hard"'} needs the difficulty scan the run used: give it with --scan FILE.jsonl`);
  }
  const dataName = scanPath ? `${basename(dataPath).replace(/\.[^.]*$/, '')}.scanned.jsonl` : basename(dataPath);
  if (scanPath) {
    const scan = await readScanFile(scanPath);
    await writeFile(join(outDir, dataName), scannedJsonl(ds.rows, scan));
  } else await copyFile(dataPath, join(outDir, dataName));
  if (adapterDir) {
    await mkdir(join(outDir, 'adapter'), { recursive: true });
    for (const f of [ADAPTER_WEIGHTS, ADAPTER_CONFIG]) await copyFile(join(adapterDir, f), join(outDir, 'adapter', f));
  }
  const llama2c = modelPath.endsWith('.bin');
  const script = trlScript({
    config,
    modelName: resolve(modelPath),
    modelSource: llama2c ? `the llama2.c checkpoint ${modelPath} (convert it to a Hugging Face folder and set MODEL to it)` : `the folder ${modelPath}`,
    dataset: {
      name: dataName, format: scanPath ? 'jsonl' : ds.format, promptColumn: ds.mapping.prompt, answerColumn: ds.mapping.answer,
      ...(ds.mapping.rejected !== undefined ? { rejectedColumn: ds.mapping.rejected } : {}), ...(ds.mapping.label !== undefined ? { labelColumn: ds.mapping.label } : {}),
    },
    stepsTrained: null,
    tools,
  });
  const scriptName = preference || config.algorithm === 'sft' ? `train_${config.algorithm}.py` : 'train_grpo.py';
  await writeFile(join(outDir, scriptName), script);
  await writeFile(join(outDir, 'training_config.json'), JSON.stringify(config, null, 2) + '\n');
  const notes = configWarnings(config).map((w) => `note (${w.field}): ${w.message}\n`);
  process.stdout.write(
    `${describeDataset(dataPath, ds)}\n` +
      notes.join('') +
      `wrote ${join(outDir, scriptName)} (${preference ?? (config.algorithm === 'sft' ? 'SFTTrainer' : config.advantage_estimator === 'rloo' ? 'RLOOTrainer' : 'GRPOTrainer')}), ${join(outDir, dataName)}, ` +
      `${adapterDir ? `${join(outDir, 'adapter')}/, ` : ''}${join(outDir, 'training_config.json')}\n` +
      `run it with: cd ${outDir} && pip install "trl>=1.9" peft datasets && python ${scriptName}\n`,
  );
}
