// The GRPO loss kernels' hyperparameters, shared by their wrappers (src/gpu/kernels/grpo_loss.ts) and their
// CPU reference (src/reference/grpo_loss.ts).

export interface GrpoLossParams {
  epsilon: number;
  epsilonHigh: number;
  beta: number;
}
