// Central finite differences for checking backward references (pure CPU, float64).

/** d f / d x[i] for every i by central differences: (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).
 * Perturbs x in place and restores it; f must read x afresh on every call. */
export function centralDiff(f: () => number, x: Float64Array, eps = 1e-4): Float64Array {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    x[i] = v + eps;
    const plus = f();
    x[i] = v - eps;
    const minus = f();
    x[i] = v;
    grad[i] = (plus - minus) / (2 * eps);
  }
  return grad;
}

/** The first few elements where |got - want| > atol + rtol * |want|, as readable lines ('' when none). */
export function mismatches(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
  what: string,
): string {
  if (got.length !== want.length) return `${what}: length ${got.length}, want ${want.length}`;
  const lines: string[] = [];
  for (let i = 0; i < want.length && lines.length < 5; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= atol + rtol * Math.abs(want[i]))) {
      lines.push(`${what}[${i}] got ${got[i]} want ${want[i]} (|err| ${err.toExponential(2)})`);
    }
  }
  return lines.join('\n');
}

/** sum_i a[i] * b[i] in float64: the scalar loss <out, G> whose gradient with respect to out is G. */
export function dotLoss(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
