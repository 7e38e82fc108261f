// Line numbers for a JSON document that JSON.parse cannot give: where each element of the data array
// starts, and where the first syntax error is.

/** Line (1-based) of character `offset`. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Index just past the string literal that starts at text[i] === '"'. */
function skipString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const ch = text.charCodeAt(j);
    if (ch === 0x5c) j++;
    else if (ch === 0x22) return j + 1;
  }
  return text.length;
}

/**
 * For valid JSON: the line where each element of the data array starts. The data array is the root
 * when `key` is null, else the value of the root object's member `key`.
 */
export function arrayElementLines(text: string, key: string | null): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let targetDepth = key === null ? 1 : -1;
  let lastString: string | null = null;
  let currentKey: string | null = null;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') {
      line++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') continue;
    if (depth === targetDepth && expectElement && ch !== ']' && ch !== ',') {
      lines.push(line);
      expectElement = false;
    }
    switch (ch) {
      case '"': {
        const end = skipString(text, i);
        if (depth === 1 && targetDepth === -1) lastString = text.slice(i + 1, end - 1);
        i = end - 1;
        break;
      }
      case ':':
        if (depth === 1) currentKey = lastString === null ? null : (JSON.parse(`"${lastString}"`) as string);
        break;
      case '[':
      case '{':
        depth++;
        if (ch === '[' && targetDepth === -1 && depth === 2 && currentKey === key) targetDepth = 2;
        if (depth === targetDepth) expectElement = true;
        break;
      case ']':
      case '}':
        if (depth === targetDepth) return lines;
        depth--;
        break;
      case ',':
        if (depth === targetDepth) expectElement = true;
        break;
    }
  }
  return lines;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Offset of the first JSON syntax error (text.length for an unexpected end), or -1 when the text is valid. */
export function jsonErrorOffset(text: string): number {
  type Ctx = 'array' | 'object';
  const stack: Ctx[] = [];
  // what may come next: a value, an object key (or '}'), ':', ',' or a closer, or nothing (done)
  type Expect = 'value' | 'value_or_close' | 'key' | 'key_or_close' | 'colon' | 'comma_or_close' | 'end';
  let expect: Expect = 'value';
  let i = 0;
  const afterValue = (): Expect => (stack.length === 0 ? 'end' : 'comma_or_close');
  while (i < text.length) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (expect === 'end') return i;
    if (expect === 'colon') {
      if (ch !== ':') return i;
      expect = 'value';
      i++;
      continue;
    }
    if (expect === 'comma_or_close') {
      const top = stack[stack.length - 1];
      if (ch === ',') expect = top === 'array' ? 'value' : 'key';
      else if ((ch === ']' && top === 'array') || (ch === '}' && top === 'object')) {
        stack.pop();
        expect = afterValue();
      } else return i;
      i++;
      continue;
    }
    if (expect === 'key' || expect === 'key_or_close') {
      if (ch === '}' && expect === 'key_or_close') {
        stack.pop();
        expect = afterValue();
        i++;
        continue;
      }
      if (ch !== '"') return i;
      const end = stringEnd(text, i);
      if (end < 0) return -end - 1;
      i = end;
      expect = 'colon';
      continue;
    }
    // a value
    if (ch === ']' && expect === 'value_or_close') {
      stack.pop();
      expect = afterValue();
      i++;
      continue;
    }
    if (ch === '{' || ch === '[') {
      stack.push(ch === '{' ? 'object' : 'array');
      expect = ch === '{' ? 'key_or_close' : 'value_or_close';
      i++;
      continue;
    }
    if (ch === '"') {
      const end = stringEnd(text, i);
      if (end < 0) return -end - 1;
      i = end;
      expect = afterValue();
      continue;
    }
    const lit = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
    if (lit) {
      i += lit.length;
      expect = afterValue();
      continue;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m || m[0].length === 0) return i;
    i += m[0].length;
    expect = afterValue();
  }
  return expect === 'end' ? -1 : text.length;
}

/** Index past the string at text[i] === '"', or -(offset of the problem) - 1. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const ch = text.charCodeAt(j);
    if (ch === 0x22) return j + 1;
    if (ch < 0x20) return -j - 1;
    if (ch === 0x5c) {
      const e = text[j + 1];
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) return -j - 1;
        j += 5;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) j++;
      else return -j - 1;
    }
  }
  return -text.length - 1;
}
