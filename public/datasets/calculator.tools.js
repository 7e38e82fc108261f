// The calculator demo's tool (public/datasets/calculator.tools.js): the built-in tiny-calculator model calls it
// as [123+456] and reads its result back as (579). Use it from the command line with
//   npx grpo-playground train --model public/models/tiny-calculator --dataset public/datasets/calculator.jsonl --tools public/datasets/calculator.tools.js ...
[
  {
    name: 'calc',
    description: 'Adds two whole numbers written as a+b, e.g. 123+456; anything else gives an empty result',
    parameters: { type: 'object', properties: { input: { type: 'string', description: 'the sum to work out, a+b' } }, required: ['input'] },
    // a call it cannot read gives an empty result, "()": the model's tokenizer has digits and + = [ ] ( )
    // only, so an error message would reach it as a run of unknown tokens
    run: ({ input }) => {
      const m = /^\s*(\d{1,9})\s*\+\s*(\d{1,9})\s*$/.exec(input);
      return m ? Number(m[1]) + Number(m[2]) : '';
    },
  },
]
