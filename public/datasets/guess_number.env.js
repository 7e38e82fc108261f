// A multi-turn environment for `train --env public/datasets/guess_number.env.js` (or the page's editor): the
// model guesses a secret number from 1 to 20 and hears "higher" or "lower" after each guess. One environment
// per rollout; reset(row) gets the dataset row (its answer is the secret) and returns the first observation;
// step(text) reads the first whole number in the model's turn. Reward: 1 for the right guess, minus 0.1 per
// wrong or missing guess; done when right. The episode also ends at max_turns.
() => {
  let secret = 0;
  return {
    reset(row) {
      secret = Number(row.answer);
      return 'I am thinking of a number from 1 to 20. Guess it.';
    },
    step(text) {
      const m = /\d+/.exec(text);
      if (!m) return { observation: 'Say a number from 1 to 20.', reward: -0.1, done: false };
      const guess = Number(m[0]);
      if (guess === secret) return { observation: 'Correct!', reward: 1, done: true };
      return { observation: guess < secret ? 'Higher.' : 'Lower.', reward: -0.1, done: false };
    },
  };
}
