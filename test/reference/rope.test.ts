// The RoPE references (both conventions) and the inverse-frequency helpers: the backward against finite
// differences, the conventions against each other, and Llama 3 scaling against transformers' rule.
import { describe, expect, test } from 'vitest';
import { llama3InvFreq, ropeInvFreq, type RopeConvention } from '../../src/gpu/kernels/rope';
import { ropeBackward, ropeForward } from '../../src/reference/rope';
import { Rng, randn, randInts } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

const CONVENTIONS: RopeConvention[] = ['interleaved', 'half'];

describe('rope reference', () => {
  test('position 0 is the identity; pair (a, b) at angle pi/2 maps to (-b, a)', () => {
    for (const convention of CONVENTIONS) {
      const x = Float64Array.from([1, 2, 3, 4]);
      const out = new Float64Array(4);
      ropeForward(out, x, Uint32Array.from([0]), Float64Array.from([1, 0.1]), 1, 1, 4, convention);
      expect(Array.from(out)).toEqual([1, 2, 3, 4]);
    }
    const out = new Float64Array(2);
    ropeForward(out, Float64Array.from([1, 2]), Uint32Array.from([1]), Float64Array.from([Math.PI / 2]), 1, 1, 2, 'half');
    const a = Math.fround(Math.PI / 2);
    expect(out[0]).toBeCloseTo(1 * Math.cos(a) - 2 * Math.sin(a), 15);
    expect(out[0]).toBeCloseTo(-2, 6);
    expect(out[1]).toBeCloseTo(1, 6);
  });

  test('half = interleaved after moving channel 2i to i and 2i+1 to i + HS/2 (what HF converters do)', () => {
    const rng = new Rng(24);
    const [N, NH, HS] = [3, 2, 8];
    const W = NH * HS;
    const x = Float64Array.from(randn(N * W, rng));
    const positions = randInts(N, rng, 1000);
    const invFreq = ropeInvFreq(HS, 10000);
    const perm = (src: Float64Array) => {
      const dst = new Float64Array(src.length);
      for (let row = 0; row < N * NH; row++) {
        for (let i = 0; i < HS / 2; i++) {
          dst[row * HS + i] = src[row * HS + 2 * i];
          dst[row * HS + i + HS / 2] = src[row * HS + 2 * i + 1];
        }
      }
      return dst;
    };
    const inter = new Float64Array(N * W);
    ropeForward(inter, x, positions, invFreq, N, NH, HS, 'interleaved');
    const half = new Float64Array(N * W);
    ropeForward(half, perm(x), positions, invFreq, N, NH, HS, 'half');
    expect(mismatches(half, perm(inter), 1e-12, 0, 'half')).toBe('');
  });

  for (const convention of CONVENTIONS) {
    test(`${convention}: backward matches finite differences and inverts the forward`, () => {
      const rng = new Rng(25);
      const [N, NH, HS] = [3, 2, 6];
      const W = NH * HS;
      const x = Float64Array.from(randn(N * W, rng));
      const positions = Uint32Array.from([0, 17, 4093]);
      const invFreq = ropeInvFreq(HS, 10000);
      const G = Float64Array.from(randn(N * W, rng));
      const out = new Float64Array(N * W);
      const loss = () => {
        ropeForward(out, x, positions, invFreq, N, NH, HS, convention);
        return dotLoss(out, G);
      };
      const fd = centralDiff(loss, x, 1e-4);
      const dx = new Float64Array(N * W).fill(7); // overwritten
      ropeBackward(dx, G, positions, invFreq, N, NH, HS, convention);
      expect(mismatches(dx, fd, 1e-8, 1e-8, 'dx')).toBe('');
      // rotations are orthogonal: backward(forward(x)) = x
      ropeForward(out, x, positions, invFreq, N, NH, HS, convention);
      const back = new Float64Array(N * W);
      ropeBackward(back, out, positions, invFreq, N, NH, HS, convention);
      expect(mismatches(back, x, 1e-12, 0, 'backward(forward(x))')).toBe('');
    });
  }
});

describe('inverse frequencies', () => {
  test('ropeInvFreq = 1 / theta^(2i / HS)', () => {
    expect(Array.from(ropeInvFreq(8, 10000))).toEqual([1, 0.1, 0.01, 0.001].map(Math.fround));
    expect(() => ropeInvFreq(7, 10000)).toThrow(/even/);
  });

  test('llama3InvFreq matches transformers (Llama 3.2 1B: HS 64, theta 5e5, factor 32, low 1, high 4, 8192)', () => {
    const scaling = { factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    const got = llama3InvFreq(64, 500000, scaling);
    const plain = ropeInvFreq(64, 500000);
    expect(got.length).toBe(32);
    // Values from transformers' _compute_llama3_parameters rule evaluated in float32 (numpy), indices 0..31.
    const want: Record<number, number> = {
      0: 1.0, // high frequency (wavelength < 2048): unchanged
      14: 0.0032114461064338684, // still high frequency
      15: 0.0012905480107292533, // medium: smooth interpolation
      16: 0.000429556705057621,
      17: 9.708286233944818e-5,
      18: 1.9461638657958247e-5, // low frequency (wavelength > 8192): divided by factor
      31: 9.41830720080361e-8,
    };
    for (const [i, w] of Object.entries(want)) expect(Math.abs(got[+i] - w) / w, `index ${i}`).toBeLessThan(2e-6);
    for (let i = 0; i < 32; i++) {
      const wavelen = (2 * Math.PI) / plain[i];
      if (wavelen < 2048) expect(got[i]).toBe(plain[i]);
      else if (wavelen > 8192) expect(got[i]).toBe(Math.fround(plain[i] / 32));
      else {
        expect(got[i]).toBeLessThan(plain[i]);
        expect(got[i]).toBeGreaterThan(plain[i] / 32);
      }
    }
    expect(() => llama3InvFreq(64, 500000, { ...scaling, high_freq_factor: 1 })).toThrow(/high_freq_factor/);
  });
});
