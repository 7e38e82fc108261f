// The sampled ids read back from the GPU are checked before anything uses them. The sample kernel assumes
// finite logits; with NaN or infinite logits (non-finite weights, an adapter of NaNs, an overflow) it
// returns no meaningful id, typically one far outside the vocabulary (e.g. 4290772992, the bits of a NaN).
// Such an id is never handed on as a token: it is an error that names the decode step and the row.

/** Throws when an id of `ids` (step-major: ids[s * B + b], steps `firstStep`...) is outside [0, vocabSize). */
export function checkSampledIds(ids: ArrayLike<number>, B: number, vocabSize: number, firstStep = 0): void {
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] >= vocabSize) throw sampledIdError(ids[i], firstStep + Math.floor(i / B), i % B, vocabSize);
  }
}

/** The error for a sampled id outside the vocabulary, naming the decode step and the row. */
export function sampledIdError(id: number, step: number, row: number, vocabSize: number): Error {
  return new Error(
    `sampling failed at decode step ${step} (row ${row}): the sampled id ${id} is outside the vocabulary of ${vocabSize}, ` +
      `so the logits were not finite numbers (NaN or infinity); the model's weights or the LoRA adapter hold non-finite values, or the activations overflowed`,
  );
}
