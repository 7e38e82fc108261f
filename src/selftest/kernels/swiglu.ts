// swiglu_forward and swiglu_backward against the CPU reference: the cases shared with the other gate (../gate_cases.ts).
import * as gpuK from '../../gpu/kernels/swiglu';
import * as ref from '../../reference/swiglu';
import { gateCheck } from '../gate_cases';

export const check = gateCheck({
  name: 'swiglu',
  gpuForward: gpuK.swigluForward,
  gpuBackward: gpuK.swigluBackward,
  refForward: ref.swigluForward,
  refBackward: ref.swigluBackward,
});
