// The worker's model slot: the loaded model (host weights, tokenizer, the files it came from) and its
// upload to the GPU device it lives on. When the device is lost, the slot takes a new one and uploads the
// host weights again (renew); a run on the old device is rebuilt by the run controller (run_controller.ts).
// The frozen base is uploaded as base_precision 'auto' says for the file (16 bits above 50M parameters); a run
// whose base_precision resolves otherwise has the model uploaded again before it starts (useBasePrecision).

import type { GpuRuntime } from '../gpu/runtime';
import { renewAutotuner } from '../gpu/autotune';
import { loadModelFiles, type FileSource, type LoadedModel } from '../model/load';
import { llamaParamCount } from '../model/config';
import { loraModuleSizes } from '../model/lora';
import { uploadPolicyModel, type PolicyModel } from '../model/policy_model';
import { loadQuantType, quantTypesOf } from '../model/quant_storage';
import { weightGroups } from '../model/weight_groups';
import { resolveBasePrecision, type BasePrecision, type BaseStorageOptions } from '../model/weight_storage';
import type { ModelSummary } from './protocol';

/** A model that is loaded: on the host, and uploaded to `gpu`. Replaced as a whole, never half-set. */
export interface ModelOnDevice {
  loaded: LoadedModel;
  /** names and sizes of the files the model was read from (a resumed run checks them) */
  files: { name: string; size: number }[];
  gpu: GpuRuntime;
  /** the engine, or Gemma 4's model (policy_model.ts) */
  model: PolicyModel;
  /** how the base was uploaded ({ basePrecision, fileDtype: loaded.dtype }, as the CLI passes them) */
  storage: BaseStorageOptions;
}

export class ModelSlot {
  private current: ModelOnDevice | null = null;

  /**
   * @param gpu the worker's device (acquired on first use)
   * @param renewGpu acquires a new device after a loss; without it a lost device cannot be replaced
   */
  constructor(
    private readonly gpu: () => Promise<GpuRuntime>,
    private readonly renewGpu: (() => Promise<GpuRuntime>) | null = null,
  ) {}

  /** the loaded model, or null before the first load */
  get model(): ModelOnDevice | null {
    return this.current;
  }

  /** The loaded model; throws `message` when there is none. */
  require(message = 'load a model first'): ModelOnDevice {
    if (!this.current) throw new Error(message);
    return this.current;
  }

  /** a lost device can be replaced */
  get canRenew(): boolean {
    return this.renewGpu !== null;
  }

  /** Reads the files and uploads the model, replacing the loaded one. `beforeReplace` runs once the
   * files have been read (a bad file leaves everything as it was) and before the old model is released. */
  async load(files: FileSource[], beforeReplace: () => void): Promise<ModelSummary> {
    const loaded = await loadModelFiles(files);
    const gpu = await this.liveGpu();
    beforeReplace();
    this.current?.model.release();
    this.current = null;
    const storage: BaseStorageOptions = { basePrecision: 'auto', fileDtype: loaded.dtype };
    const model = uploadPolicyModel(gpu, loaded.config, loaded.weights, storage);
    this.current = { loaded, files: files.map((f) => ({ name: f.name, size: f.size })), gpu, model, storage };
    const c = loaded.config;
    return {
      name: loaded.name,
      architecture: c.architecture,
      params: llamaParamCount(c),
      layers: c.numLayers,
      hiddenSize: c.hiddenSize,
      intermediateSize: c.intermediateSize,
      numHeads: c.numHeads,
      numKvHeads: c.numKvHeads,
      headDim: c.headDim,
      vocabSize: c.vocabSize,
      maxPositions: c.maxPositionEmbeddings,
      dtype: loaded.dtype,
      weightBytes: model.bytes,
      hasChatTemplate: !!loaded.chatTemplate,
      loraModules: loraModuleSizes(c),
      weightGroups: weightGroups(c, { ...storage, quant: quantTypesOf(loaded.weights) }),
    };
  }

  /** The device the model lives on was lost: its reason (else null). Waits a moment, since the loss may
   * be reported just after the call it made fail. */
  async lostReason(): Promise<string | null> {
    const gpu = this.current?.gpu;
    if (!gpu) return null;
    if (gpu.lost) return gpu.lost;
    return Promise.race([
      gpu.device.lost.then(() => gpu.lost ?? 'GPU device lost'),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000)),
    ]);
  }

  /** A new device with the model uploaded to it again (the host keeps the weights). The old device's
   * buffers went with it: nothing is released into its pool. */
  async renew(): Promise<ModelOnDevice> {
    const old = this.require('the GPU device was lost and no model is loaded');
    if (!this.renewGpu) throw new Error(`${old.gpu.lost ?? 'the GPU device was lost'}, and no new device can be acquired`);
    const gpu = await this.renewGpu();
    await renewAutotuner(old.gpu, gpu); // the autotuner and its choices move to the new device
    const model = uploadPolicyModel(gpu, old.loaded.config, old.loaded.weights, old.storage);
    this.current = { ...old, gpu, model };
    return this.current;
  }

  /** The loaded model with its base stored as `basePrecision` resolves for it: uploaded again (the old upload
   * released first) when that differs from how it is stored now. Only between runs: nothing may hold the old
   * upload. A refused f16 store (values beyond half's range) leaves the model as it was. */
  useBasePrecision(basePrecision: BasePrecision, embedOnHost = false): ModelOnDevice {
    const on = this.require();
    // (Gemma 4: embedOnHost keeps its embedding table in host memory, as the memory plan chose)
    const storage: BaseStorageOptions = { basePrecision, fileDtype: on.loaded.dtype, ...(embedOnHost ? { embedOnHost } : {}) };
    const want = resolveBasePrecision(on.loaded.config, storage);
    // q8_0 / q4_k / nf4 / nf4_dq resolve to bf16 for the matrices they leave: the quantisation must match as well
    // (nf4 and nf4_dq: block types NF4 and NF4_DQ)
    const quantOf = (p: BasePrecision | undefined) => (loadQuantType(p) ? p : null);
    const sameQuant = quantOf(basePrecision) === quantOf(on.storage.basePrecision);
    if (want === resolveBasePrecision(on.loaded.config, on.storage) && sameQuant && embedOnHost === !!on.storage.embedOnHost) return on;
    // the old upload is released first, so the two never hold memory together; a refused store (f16 values
    // out of range, said before anything is allocated) puts the old one back
    on.model.release();
    try {
      this.current = { ...on, model: uploadPolicyModel(on.gpu, on.loaded.config, on.loaded.weights, storage), storage };
    } catch (e) {
      this.current = { ...on, model: uploadPolicyModel(on.gpu, on.loaded.config, on.loaded.weights, on.storage) };
      throw e;
    }
    return this.current;
  }

  /** The worker's device, or a new one when it was lost (and a new one can be had). */
  private async liveGpu(): Promise<GpuRuntime> {
    const gpu = await this.gpu();
    if (!gpu.lost || !this.renewGpu) return gpu;
    const renewed = await this.renewGpu();
    await renewAutotuner(gpu, renewed);
    return renewed;
  }
}
