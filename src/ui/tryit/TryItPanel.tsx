// Try it: a prompt completed by the base model and by the tuned adapter side by side, with the same seed
// (the only difference is the adapter), and the log-probability each gives an expected answer.

import { useAppStore, isBusy } from '../store';
import { NumberInput } from '../settings/NumberInput';
import type { GenerationView } from '../../worker/protocol';

export function TryItPanel() {
  const input = useAppStore((s) => s.tryInput);
  const setInput = useAppStore((s) => s.setTryInput);
  const run = useAppStore((s) => s.runTryIt);
  const status = useAppStore((s) => s.tryStatus);
  const result = useAppStore((s) => s.tryResult);
  const error = useAppStore((s) => s.tryError);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  const modelReady = useAppStore((s) => s.modelStatus === 'ready');
  const examples = useAppStore((s) => s.datasetSummary?.preview);
  const running = status === 'running';
  return (
    <div className="tryit" data-testid="tryit">
      <form
        className="tryit-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <div className="field">
          <label className="field-label" htmlFor="try-prompt">
            Prompt
          </label>
          <textarea id="try-prompt" className="input mono" rows={2} value={input.prompt} onChange={(e) => setInput({ prompt: e.target.value })} placeholder={examples?.[0]?.prompt ?? 'Write a prompt'} />
        </div>
        <div className="field">
          <label className="field-label" htmlFor="try-answer">
            Expected answer <span className="muted small">(optional: its log-probability is measured)</span>
          </label>
          <input id="try-answer" className="input mono" value={input.answer} onChange={(e) => setInput({ answer: e.target.value })} placeholder={examples?.[0]?.answer ?? ''} />
        </div>
        <div className="row wrap-row">
          <label className="row small">
            <span className="muted">Temperature</span>
            <NumberInput value={input.temperature} onChange={(v) => setInput({ temperature: v })} label="Temperature (0 is greedy)" />
          </label>
          <label className="row small">
            <span className="muted">Seed</span>
            <NumberInput value={input.seed} onChange={(v) => setInput({ seed: v })} label="Seed" />
          </label>
          <label className="row small">
            <span className="muted">Max tokens</span>
            <NumberInput value={input.maxNewTokens} onChange={(v) => setInput({ maxNewTokens: v })} label="Max new tokens" />
          </label>
          {examples?.length ? (
            <button type="button" className="link-button" onClick={() => setInput({ prompt: examples[0].prompt, answer: examples[0].answer })}>
              Use a dataset row
            </button>
          ) : null}
          <span className="grow" />
          <button type="submit" className="primary" disabled={running || busy || !modelReady || input.prompt.trim() === '' || !(input.maxNewTokens >= 1) || !(input.temperature >= 0)}>
            {running ? 'Generating…' : 'Generate'}
          </button>
        </div>
        {busy ? <p className="help">Pause the run to try the model: the GPU is busy training.</p> : null}
        <p className="help">Prompts are formatted with the run's system prompt, template and chat-template settings; top_k and top_p come from the settings.</p>
      </form>
      {error ? (
        <div className="callout callout-error" role="alert">
          <p className="mono wrap">{error}</p>
        </div>
      ) : null}
      {result ? (
        <>
          <p className="muted small">
            Prompt as the model saw it: <code className="wrap">{result.promptText}</code> ({result.promptTokens} tokens)
          </p>
          <div className="side-by-side" data-testid="tryit-result">
            <Completion title="Base model" g={result.base} testId="tryit-base" />
            {result.tuned ? (
              <Completion title={`Tuned (step ${result.step})`} g={result.tuned} testId="tryit-tuned" base={result.base} />
            ) : (
              <div className="completion-card muted">
                <h3>Tuned</h3>
                <p>No adapter yet: train at least one step or import an adapter.</p>
              </div>
            )}
          </div>
        </>
      ) : null}
    </div>
  );
}

function Completion({ title, g, base, testId }: { title: string; g: GenerationView; base?: GenerationView; testId: string }) {
  const delta = base && g.answerLogprob !== null && base.answerLogprob !== null ? g.answerLogprob - base.answerLogprob : null;
  return (
    <div className="completion-card" data-testid={testId}>
      <h3>{title}</h3>
      <pre className="completion-text big">{g.text === '' ? <span className="muted">(empty)</span> : g.text}</pre>
      <p className="muted small">
        {g.tokens} token{g.tokens === 1 ? '' : 's'} · {g.finish === 'stop' ? 'ended with end-of-sequence' : 'reached max tokens'}
      </p>
      {g.answerLogprob !== null ? (
        <p className="small">
          log p(answer) = <span className="mono" data-testid={`${testId}-logprob`}>{g.answerLogprob.toFixed(3)}</span>
          <span className="muted"> (p = {Math.exp(g.answerLogprob).toPrecision(3)})</span>
          {delta !== null ? (
            <span className={delta >= 0 ? 'ok-text' : 'error-text'}>
              {' '}
              {delta >= 0 ? '+' : ''}
              {delta.toFixed(3)} vs base
            </span>
          ) : null}
        </p>
      ) : null}
    </div>
  );
}
