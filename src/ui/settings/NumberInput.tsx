// A number field typed as text, so that 1e-6 and a half-typed "0." survive editing; the value is NaN
// while the text does not parse (validation then flags it).

import { useState } from 'react';
import { formatNumberInput, parseNumber } from './fields';

/** A number typed as text (so 1e-6 and a half-typed "0." survive); NaN while it does not parse. */
export function NumberInput({ value, onChange, disabled, label, id, invalid, describedBy }: { value: number; onChange: (v: number) => void; disabled?: boolean; label?: string; id?: string; invalid?: boolean; describedBy?: string }) {
  const [text, setText] = useState(formatNumberInput(value));
  const [last, setLast] = useState(value);
  // follow outside changes (a preset, a reset) without fighting the person's typing
  if (!Object.is(value, last) && !Object.is(parseNumber(text), value)) {
    setLast(value);
    setText(formatNumberInput(value));
  }
  return (
    <input
      id={id}
      className="input num-input mono"
      inputMode="decimal"
      value={text}
      disabled={disabled}
      aria-label={label}
      aria-invalid={invalid || Number.isNaN(parseNumber(text)) || undefined}
      aria-describedby={describedBy}
      onChange={(e) => {
        setText(e.target.value);
        const v = parseNumber(e.target.value);
        setLast(v);
        onChange(v);
      }}
    />
  );
}
