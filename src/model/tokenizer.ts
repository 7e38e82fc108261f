// The one tokenizer interface the rest of the app uses, whatever the format (llama2.c tokenizer.bin,
// Hugging Face tokenizer.json).

export interface Tokenizer {
  /** ids are in [0, vocabSize) */
  readonly vocabSize: number;
  readonly bosId: number | null;
  /** ids that end a generation */
  readonly eosIds: number[];
  /** addBos true: exactly one BOS first (when the tokenizer has one); false: no special tokens;
   * absent: the format's own default (llama2.c: BOS; Hugging Face: its post-processor's template). */
  encode(text: string, opts?: { addBos?: boolean }): number[];
  decode(ids: number[]): string;
  /** what one token reads as, for display */
  tokenText(id: number): string;
}
