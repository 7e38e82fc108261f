// Every string that enters a generated Python file goes through one of these, one per Python context:
// a string literal, a comment (one line, or many lines each made a comment), the inside of a """docstring""",
// and an identifier (checked, never rewritten: a name that is not a valid Python identifier is refused).
// Model names, dataset file names, `_name_or_path`, JavaScript sources and tool descriptions are all
// somebody else's text: an unescaped `"""`, a `\r` in a comment (CPython ends a comment line at `\r` as
// well as `\n`) or a parameter named `x=__import__("os").system("...")` would otherwise become code.
// Measured on CPython 3.11: only `\n` and `\r` end a comment line; `\f`, `\v`, `\x1c`-`\x1e`, U+0085,
// U+2028 and U+2029 do not, and NUL makes the whole file a SyntaxError. Comments and docstrings replace or
// escape all of them anyway, so that no editor or other reader of the script sees a line break there.

/** Python's reserved keywords (`keyword.kwlist`, 3.8 to 3.13); soft keywords (match, case, type, _) are valid names. */
const PY_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del',
  'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda',
  'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);

/** Characters that some reader treats as a line break: \n \v \f \r, \x1c-\x1e (file/group/record separators),
 * U+0085 (next line), U+2028 (line separator), U+2029 (paragraph separator). */
const LINE_BREAKS = /\r\n|[\n\v\f\r\x1c-\x1e\x85\u2028\u2029]/g;

/** Other characters that have no business in a comment or docstring: the remaining C0 controls (NUL makes the
 * file uncompilable), DEL, the C1 controls, and lone surrogates (which UTF-8 cannot encode). */
const CONTROLS = /[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function hex(c: string): string {
  const n = c.charCodeAt(0);
  if (n < 0x100) return `\\x${n.toString(16).padStart(2, '0')}`;
  return `\\u${n.toString(16).padStart(4, '0')}`;
}

/** A double-quoted Python string literal whose value is exactly `s`. Printable characters stay as they are
 * (also non-ASCII, for a readable script); quotes, backslashes, every control and line-break character and
 * lone surrogates are escaped. */
export function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const n = s.charCodeAt(i);
    if (c === '"') out += '\\"';
    else if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (n >= 0xd800 && n <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += c + s[i + 1]; // a well-formed surrogate pair: one printable character outside the BMP
      i++;
    } else if (n < 0x20 || (n >= 0x7f && n <= 0x9f) || n === 0x2028 || n === 0x2029 || (n >= 0xd800 && n <= 0xdfff)) out += hex(c);
    else out += c;
  }
  return out + '"';
}

/** Text for a one-line `#` comment: every line break becomes a space and other control characters are
 * dropped, so nothing after the `#` can start a new line of code. */
export function pyComment(s: string): string {
  return s.replace(LINE_BREAKS, ' ').replace(CONTROLS, '');
}

/** Multi-line text (a JavaScript source) as comment lines `${prefix}${line}`, split at every line break
 * (\r\n, \r, \n, U+2028, ...), each line cleaned as pyComment cleans. */
export function pyCommentLines(s: string, prefix = '# '): string {
  if (!prefix.trimStart().startsWith('#')) throw new Error(`pyCommentLines: the prefix ${JSON.stringify(prefix)} does not start a comment`);
  return s
    .split(LINE_BREAKS)
    .map((line) => `${prefix}${line.replace(CONTROLS, '')}`)
    .join('\n');
}

/** Text for the inside of a `"""..."""` docstring (not a raw one): backslashes are doubled and every double
 * quote next to another one (and a last one) is escaped, so that no `"""` and no escape sequence can form
 * while a lone quote stays readable (`pip install "trl>=1.9"`); \r and other line breaks become newlines and
 * controls become escapes; the docstring's value reads as the text did. */
export function pyDocstring(s: string): string {
  return s
    .replace(/\r\n|\r|[\v\f\x1c-\x1e\x85\u2028\u2029]/g, '\n')
    .replace(/\\/g, '\\\\')
    .replace(/"(?=")|(?<=")"|"$/g, '\\"')
    .replace(CONTROLS, (c) => hex(c));
}

/** Text for one line of a docstring (a Google-style `name: description` line): as pyDocstring, with every
 * line break a space. */
export function pyDocstringLine(s: string): string {
  return pyDocstring(s.replace(LINE_BREAKS, ' '));
}

/** Whether `name` is an ASCII Python identifier that is not a keyword. */
export function isPyIdentifier(name: unknown): name is string {
  return typeof name === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !PY_KEYWORDS.has(name);
}

/** `name` when it can stand as a Python identifier; otherwise an error naming `what` (e.g. `the tool "calc",
 * parameter`) and the name. ASCII only: Python accepts more, but NFKC-normalises them, so two names that look
 * different could become the same one. */
export function pyIdentifier(name: unknown, what: string): string {
  if (isPyIdentifier(name)) return name;
  const shown = typeof name === 'string' ? JSON.stringify(name) : String(name);
  const why = typeof name === 'string' && PY_KEYWORDS.has(name) ? 'is a Python keyword' : 'is not a Python identifier (ASCII letters, digits and _, not starting with a digit)';
  throw new Error(`${what} ${shown} ${why}: the Python export cannot use it as a name`);
}
