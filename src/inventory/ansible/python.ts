/**
 * The two pieces of Python an Ansible INI inventory is read with: `shlex.split(line, comments=True)` for host lines,
 * and `ast.literal_eval` for every value, which types `30` as a number and `"x y"` as a string, and leaves anything
 * that is not a Python literal (`eth0`, `192.168.9.10`, `FALSE`) the string it was.
 */

/**
 * POSIX shlex: quotes join and are removed, a backslash escapes outside single quotes, an unquoted `#` starts a
 * comment (returned without its `#`). Throws an Error for an unclosed quote.
 */
export function shlexSplit(line: string): { tokens: string[]; comment?: string } {
  let comment: string | undefined;
  const tokens: string[] = [];
  let token = '';
  let inToken = false;
  let index = 0;
  while (index < line.length) {
    const char = line[index]!;
    if (char === ' ' || char === '\t' || char === '\r' || char === '\n') {
      if (inToken) tokens.push(token);
      token = '';
      inToken = false;
      index += 1;
    } else if (char === '#') {
      comment = line.slice(index + 1);
      break;
    } else if (char === "'") {
      const end = line.indexOf("'", index + 1);
      if (end === -1) throw new Error('No closing quotation');
      token += line.slice(index + 1, end);
      inToken = true;
      index = end + 1;
    } else if (char === '"') {
      index += 1;
      for (;;) {
        if (index >= line.length) throw new Error('No closing quotation');
        const inner = line[index]!;
        if (inner === '"') break;
        // Inside double quotes a backslash escapes only a double quote or a backslash.
        if (inner === '\\' && (line[index + 1] === '"' || line[index + 1] === '\\')) {
          token += line[index + 1];
          index += 2;
        } else {
          token += inner;
          index += 1;
        }
      }
      inToken = true;
      index += 1;
    } else if (char === '\\') {
      if (index + 1 >= line.length) throw new Error('No escaped character');
      token += line[index + 1];
      inToken = true;
      index += 2;
    } else {
      token += char;
      inToken = true;
      index += 1;
    }
  }
  if (inToken) tokens.push(token);
  return comment === undefined ? { tokens } : { tokens, comment };
}

class NotALiteral extends Error {}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** A recursive-descent reader of Python's literal syntax: strings, numbers, True/False/None, lists, tuples, dicts. */
class LiteralReader {
  private index = 0;

  constructor(private readonly text: string) {}

  read(): unknown {
    // literal_eval refuses leading whitespace (an IndentationError).
    if (/^[ \t]/.test(this.text)) throw new NotALiteral();
    const first = this.expression();
    this.skipBlank();
    if (this.peek() === ',') {
      const items = [first];
      while (this.peek() === ',') {
        this.index += 1;
        this.skipBlank();
        if (this.atEnd()) break;
        items.push(this.expression());
        this.skipBlank();
      }
      if (!this.atEnd()) throw new NotALiteral();
      return items;
    }
    if (!this.atEnd()) throw new NotALiteral();
    return first;
  }

  private atEnd(): boolean {
    this.skipBlank();
    return this.index >= this.text.length;
  }

  private peek(): string | undefined {
    return this.text[this.index];
  }

  private skipBlank(): void {
    for (;;) {
      while (this.index < this.text.length && /[ \t]/.test(this.text[this.index]!)) this.index += 1;
      if (this.peek() !== '#') return;
      const end = this.text.indexOf('\n', this.index);
      this.index = end === -1 ? this.text.length : end;
    }
  }

  private expression(): unknown {
    this.skipBlank();
    const char = this.peek();
    if (char === undefined) throw new NotALiteral();
    if (char === '[') return this.sequence(']');
    if (char === '(') {
      // `(x)` is x; `(x,)` and `()` are tuples, which JSON has as lists.
      this.index += 1;
      this.skipBlank();
      if (this.peek() === ')') {
        this.index += 1;
        return [];
      }
      const first = this.expression();
      this.skipBlank();
      if (this.peek() === ')') {
        this.index += 1;
        return first;
      }
      return [first, ...this.rest(')')];
    }
    if (char === '{') return this.mapping();
    if (char === '-' || char === '+') {
      this.index += 1;
      this.skipBlank();
      const value = this.expression();
      if (typeof value !== 'number') throw new NotALiteral();
      return char === '-' ? -value : value;
    }
    if (/[0-9.]/.test(char)) return this.number();
    if (char === "'" || char === '"') return this.strings();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.index))?.[0];
    if (word === undefined) throw new NotALiteral();
    const quote = this.text[this.index + word.length];
    if ((quote === "'" || quote === '"') && /^(?:[rRuUbB]|[bB][rR]|[rR][bB])$/.test(word)) return this.strings();
    this.index += word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    throw new NotALiteral();
  }

  private sequence(close: string): unknown[] {
    this.index += 1;
    this.skipBlank();
    if (this.peek() === close) {
      this.index += 1;
      return [];
    }
    return [this.expression(), ...this.rest(close)];
  }

  /** After the first item: `, item`… up to the closing bracket, a trailing comma allowed. */
  private rest(close: string): unknown[] {
    const items: unknown[] = [];
    for (;;) {
      this.skipBlank();
      const char = this.peek();
      if (char === close) {
        this.index += 1;
        return items;
      }
      if (char !== ',') throw new NotALiteral();
      this.index += 1;
      this.skipBlank();
      if (this.peek() === close) continue;
      items.push(this.expression());
    }
  }

  private mapping(): Record<string, unknown> {
    this.index += 1;
    const result: Record<string, unknown> = {};
    for (;;) {
      this.skipBlank();
      if (this.peek() === '}') {
        this.index += 1;
        return result;
      }
      const key = this.expression();
      this.skipBlank();
      // A set ({a, b}) is a literal too, but JSON has no sets: it stays a string.
      if (this.peek() !== ':') throw new NotALiteral();
      this.index += 1;
      const value = this.expression();
      if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean' && key !== null) throw new NotALiteral();
      result[key === null ? 'None' : typeof key === 'boolean' ? (key ? 'True' : 'False') : String(key)] = value;
      this.skipBlank();
      if (this.peek() === ',') this.index += 1;
      else if (this.peek() !== '}') throw new NotALiteral();
    }
  }

  private number(): number {
    const rest = this.text.slice(this.index);
    const match =
      /^0[xX](?:_?[0-9a-fA-F])+|^0[oO](?:_?[0-7])+|^0[bB](?:_?[01])+|^(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?/.exec(
        rest,
      );
    if (!match) throw new NotALiteral();
    const literal = match[0];
    // Complex numbers have no JSON form; a leading zero (`010`) is a syntax error in Python 3.
    if (/^[jJA-Za-z_]/.test(rest.slice(literal.length)) || /^0[0-9_]+$/.test(literal)) throw new NotALiteral();
    this.index += literal.length;
    const digits = literal.replace(/_/g, '');
    if (/^0[xXoObB]/.test(digits)) return Number(digits);
    return /[.eE]/.test(digits) ? Number.parseFloat(digits) : Number(digits);
  }

  /** One string literal or several side by side, which Python joins. */
  private strings(): string {
    let joined = '';
    do {
      joined += this.string();
      this.skipBlank();
    } while (this.isStringStart());
    return joined;
  }

  private isStringStart(): boolean {
    const prefix = /^[rRuUbB]{0,2}/.exec(this.text.slice(this.index))![0];
    return /^(?:|[rRuUbB]|[bB][rR]|[rR][bB])$/.test(prefix) && /['"]/.test(this.text[this.index + prefix.length] ?? '');
  }

  private string(): string {
    const prefix = /^[rRuUbB]{0,2}/.exec(this.text.slice(this.index))![0];
    const raw = /[rR]/.test(prefix);
    this.index += prefix.length;
    const quote = this.peek()!;
    const triple = this.text.startsWith(quote.repeat(3), this.index);
    const delimiter = triple ? quote.repeat(3) : quote;
    this.index += delimiter.length;
    let value = '';
    for (;;) {
      if (this.index >= this.text.length) throw new NotALiteral();
      if (this.text.startsWith(delimiter, this.index)) {
        this.index += delimiter.length;
        return value;
      }
      const char = this.text[this.index]!;
      if (char === '\n' && !triple) throw new NotALiteral();
      if (char !== '\\') {
        value += char;
        this.index += 1;
        continue;
      }
      const next = this.text[this.index + 1];
      if (next === undefined) throw new NotALiteral();
      if (raw) {
        value += char + next;
        this.index += 2;
        continue;
      }
      this.index += 2;
      if (next in SIMPLE_ESCAPES) value += SIMPLE_ESCAPES[next];
      else if (next === 'x' || next === 'u' || next === 'U') {
        const length = next === 'x' ? 2 : next === 'u' ? 4 : 8;
        const hex = this.text.slice(this.index, this.index + length);
        if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(hex)) throw new NotALiteral();
        value += String.fromCodePoint(Number.parseInt(hex, 16));
        this.index += length;
      } else if (/[0-7]/.test(next)) {
        const octal = /^[0-7]{1,3}/.exec(this.text.slice(this.index - 1))![0];
        value += String.fromCodePoint(Number.parseInt(octal, 8));
        this.index += octal.length - 1;
      } else value += char + next;
    }
  }
}

/** The value Ansible gives an INI value: what `ast.literal_eval` makes of it, or the text itself. */
export function literalEval(text: string): unknown {
  try {
    return new LiteralReader(text).read();
  } catch (error) {
    if (error instanceof NotALiteral) return text;
    throw error;
  }
}
