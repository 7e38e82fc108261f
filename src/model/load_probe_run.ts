// What the load probe runs inside its worker (load_probe.ts): build the tokenizer from tokenizer.json and
// encode strings that make a catastrophically backtracking pre-tokenizer regex explode, then render the chat
// template on a small conversation. Serialised with Function.prototype.toString for Node's eval worker, so
// it refers to nothing outside itself; `say` reports the stage about to run, so a timeout can name it.

export type ProbeStage = 'tokenizer' | 'chat template';

export interface ProbeLibs {
  Tokenizer: new (json: unknown, config: unknown) => { encode(text: string): unknown };
  Template: new (source: string) => { render(ctx: Record<string, unknown>): string };
}

export interface ProbeInput {
  tokenizerJson: unknown;
  tokenizerConfig: unknown;
  chatTemplate: string | null;
}

export async function runLoadProbe(libs: ProbeLibs, input: ProbeInput, say: (stage: ProbeStage) => void): Promise<void> {
  // building a large tokenizer legitimately takes seconds: the time limit starts with the first stage
  const tok = new libs.Tokenizer(input.tokenizerJson, input.tokenizerConfig ?? {});
  say('tokenizer');
  const n = 1024;
  const probes = ['a'.repeat(n) + '!', ' '.repeat(n) + 'a!', '1'.repeat(n) + 'a', "'".repeat(n) + 'a', '\n'.repeat(n) + 'a', 'aA1 !?'.repeat(n / 4), 'é'.repeat(n) + '!'];
  for (const p of probes) tok.encode(p);
  if (input.chatTemplate) {
    say('chat template');
    let template;
    try {
      template = new libs.Template(input.chatTemplate);
    } catch {
      return; // a template that does not parse fails with its own message when used
    }
    const messages = [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'What is 2+2?' },
      { role: 'assistant', content: '4' },
      { role: 'user', content: 'And 3+3?' },
    ];
    for (const m of [messages, messages.slice(1)]) {
      try {
        template.render({ messages: m, add_generation_prompt: true, bos_token: '<s>', eos_token: '</s>' });
      } catch {
        // templates may refuse a system message or a role order: only the time it takes matters here
      }
    }
  }
}
