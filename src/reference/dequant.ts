// CPU reference of ggml's dequantisation (dequantize_row_* of ggml-quants.c, value for value): the oracle of the
// quantised kernels' tests and self-test. The arithmetic lives in src/ops/ggml_dequant.ts because the GGUF
// loader (production code) needs the same values on the host.
export { dequantize, halfToFloat, scaleMinK4 } from '../ops/ggml_dequant';
