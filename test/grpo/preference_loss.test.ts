// The preference losses against TRL's formulas worked out by hand (dpo_trainer.py _compute_loss, cpo_trainer.py
// cpo_loss, orpo_trainer.py odds_ratio_loss, kto_trainer.py kto_loss at TRL f2cd577), and their gradients
// against central finite differences.
import { describe, expect, it } from 'vitest';
import { ktoLoss, pairLoss, type PairLogps, type PairLossSettings } from '../../src/grpo/preference/losses';

// one pair: policy chosen -3 (3 tokens), rejected -5 (5 tokens), reference -4 both
const PAIR: PairLogps = { chosen: -3, rejected: -5, refChosen: -4, refRejected: -4, chosenLen: 3, rejectedLen: 5 };
const dpo = (o: Partial<Extract<PairLossSettings, { kind: 'dpo' }>> = {}): PairLossSettings => ({
  kind: 'dpo', lossType: 'sigmoid', beta: 0.1, labelSmoothing: 0, dpoWeight: 1, sftWeight: 0, ...o,
});

describe('preference losses: TRL formulas by hand', () => {
  // h = (chosen - refChosen) - (rejected - refRejected) = 1 - (-1) = 2; beta h = 0.2
  it('DPO sigmoid: -logsigmoid(0.2) = log(1 + e^-0.2) = log(1.8187308) = 0.5981389', () => {
    const r = pairLoss([PAIR], dpo());
    expect(r.loss).toBeCloseTo(0.5981389, 6);
    expect(r.metrics['rewards/chosen']).toBeCloseTo(0.1, 9); // beta (chosen - refChosen)
    expect(r.metrics['rewards/rejected']).toBeCloseTo(-0.1, 9);
    expect(r.metrics['rewards/margins']).toBeCloseTo(0.2, 9);
    expect(r.metrics['rewards/accuracies']).toBe(1);
    expect(r.metrics['logps/chosen']).toBe(-3);
    expect(r.metrics['logps/rejected']).toBe(-5);
  });
  it('DPO hinge: relu(1 - 0.2) = 0.8', () => {
    expect(pairLoss([PAIR], dpo({ lossType: 'hinge' })).loss).toBeCloseTo(0.8, 9);
  });
  it('DPO robust (eps 0.1): (0.9 x 0.5981389 + 0.1 x logsigmoid(-0.2) = -0.7981389) / 0.8 = 0.5731389', () => {
    expect(pairLoss([PAIR], dpo({ lossType: 'robust', labelSmoothing: 0.1 })).loss).toBeCloseTo(0.5731389, 6);
  });
  it('DPO ipo: (1/3 - (-1/5) - 1/(2 x 0.1))^2 = (-4.4666667)^2 = 19.9511111', () => {
    expect(pairLoss([PAIR], dpo({ lossType: 'ipo' })).loss).toBeCloseTo(19.9511111, 5);
  });
  it('online DPO ipo (OnlineDPOTrainer: on the sums, not length-averaged): (2 - 1/(2 x 0.1))^2 = 9', () => {
    expect(pairLoss([PAIR], dpo({ lossType: 'ipo', ipoPerToken: false })).loss).toBeCloseTo(9, 9);
  });
  it('DPO with the sft term (loss_weights [1, 0.5]): 0.5981389 + 0.5 x (3 / 3 tokens) = 1.0981389', () => {
    expect(pairLoss([PAIR], dpo({ sftWeight: 0.5 })).loss).toBeCloseTo(1.0981389, 6);
  });
  it('SimPO (beta 2, gamma 0.5): averages -1 and -1, u = 0 - 0.25, -logsigmoid(-0.5) = 0.9740770; label smoothing 0.1: 0.9240770', () => {
    const s = { kind: 'simpo' as const, beta: 2, labelSmoothing: 0, simpoGamma: 0.5, cpoAlpha: 0 };
    expect(pairLoss([PAIR], s).loss).toBeCloseTo(0.974077, 6);
    expect(pairLoss([PAIR], { ...s, labelSmoothing: 0.1 }).loss).toBeCloseTo(0.924077, 6);
    // cpo_alpha adds the chosen NLL: 3 / 3 = 1
    expect(pairLoss([PAIR], { ...s, cpoAlpha: 1 }).loss).toBeCloseTo(1.974077, 6);
    expect(pairLoss([PAIR], s).metrics['rewards/chosen']).toBeCloseTo(-2, 9); // beta x average logp
  });
  it('ORPO (beta 0.1): averages -1 and -2; log odds = 1 - (log(1-e^-1) - log(1-e^-2)) = 1 - (-0.4586751 + 0.1454135) = 1.3132617; loss 1 - 0.1 logsigmoid(1.3132617) = 1.0238183', () => {
    const r = pairLoss([{ ...PAIR, rejected: -10 }], { kind: 'orpo', beta: 0.1 });
    expect(r.metrics.log_odds_chosen).toBeCloseTo(1.3132617, 6);
    expect(r.loss).toBeCloseTo(1.0238183, 6);
  });
  it('KTO (beta 0.1, w_d 1, w_u 2): kl = mean(1, 0) = 0.5; (1 - sigmoid(0.05) + 2 (1 - sigmoid(0.15))) / 2 = 0.7063215', () => {
    const items = [{ logp: -3, ref: -4, desirable: true }, { logp: -5, ref: -4, desirable: false }];
    const r = ktoLoss(items, [-6, -2], [-7, -2], { beta: 0.1, desirableWeight: 1, undesirableWeight: 2 });
    expect(r.kl).toBeCloseTo(0.5, 12);
    expect(r.loss).toBeCloseTo(0.7063215, 6);
    // the KL baseline is clamped at 0
    expect(ktoLoss(items, [-8], [-7], { beta: 0.1, desirableWeight: 1, undesirableWeight: 1 }).kl).toBe(0);
  });
});

describe('preference losses: gradients against central finite differences', () => {
  const pairs: PairLogps[] = [
    { chosen: -6.3, rejected: -4.1, refChosen: -5.2, refRejected: -4.9, chosenLen: 4, rejectedLen: 3 },
    { chosen: -2.2, rejected: -9.5, refChosen: -3.1, refRejected: -7.7, chosenLen: 2, rejectedLen: 6 },
    { chosen: -11.0, rejected: -12.5, refChosen: -10.0, refRejected: -12.0, chosenLen: 7, rejectedLen: 5 },
  ];
  const settings: [string, PairLossSettings][] = [
    ['dpo sigmoid', dpo({ beta: 0.5 })],
    ['dpo hinge', dpo({ lossType: 'hinge', beta: 0.3 })],
    ['dpo ipo', dpo({ lossType: 'ipo', beta: 0.2 })],
    ['online dpo ipo', dpo({ lossType: 'ipo', beta: 0.2, ipoPerToken: false })],
    ['dpo robust', dpo({ lossType: 'robust', beta: 0.7, labelSmoothing: 0.2 })],
    ['dpo + sft', dpo({ beta: 0.5, dpoWeight: 0.8, sftWeight: 0.3 })],
    ['simpo', { kind: 'simpo', beta: 2, labelSmoothing: 0.1, simpoGamma: 0.5, cpoAlpha: 0.4 }],
    ['orpo', { kind: 'orpo', beta: 0.25 }],
  ];
  const h = 1e-5;
  for (const [name, s] of settings) {
    it(name, () => {
      const r = pairLoss(pairs, s);
      for (let i = 0; i < pairs.length; i++) {
        for (const side of ['chosen', 'rejected'] as const) {
          const at = (d: number) => pairLoss(pairs.map((p, j) => (j === i ? { ...p, [side]: p[side] + d } : p)), s).loss;
          const fd = (at(h) - at(-h)) / (2 * h);
          const an = side === 'chosen' ? r.dChosen[i] : r.dRejected[i];
          expect(Math.abs(an - fd)).toBeLessThan(1e-6 + 1e-5 * Math.abs(fd));
        }
      }
    });
  }
  it('kto', () => {
    const items = [{ logp: -3, ref: -4, desirable: true }, { logp: -5, ref: -4.5, desirable: false }, { logp: -1, ref: -2.5, desirable: true }];
    const s = { beta: 0.4, desirableWeight: 1.3, undesirableWeight: 0.7 };
    const r = ktoLoss(items, [-6, -2, -3], [-7, -2.5, -3.2], s);
    for (let i = 0; i < items.length; i++) {
      const at = (d: number) => ktoLoss(items.map((x, j) => (j === i ? { ...x, logp: x.logp + d } : x)), [-6, -2, -3], [-7, -2.5, -3.2], s).loss;
      const fd = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(r.dLogp[i] - fd)).toBeLessThan(1e-6 + 1e-5 * Math.abs(fd));
    }
  });
});
