// geglu_forward and geglu_backward against the CPU reference: the cases shared with the other gate (../gate_cases.ts).
import * as gpuK from '../../gpu/kernels/geglu';
import * as ref from '../../reference/geglu';
import { gateCheck } from '../gate_cases';

export const check = gateCheck({
  name: 'geglu',
  gpuForward: gpuK.gegluForward,
  gpuBackward: gpuK.gegluBackward,
  refForward: ref.gegluForward,
  refBackward: ref.gegluBackward,
});
