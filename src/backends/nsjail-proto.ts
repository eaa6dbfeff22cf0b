/**
 * nsjail's configuration language, protobuf text format: writing the
 * generated config (every value an escaped literal, so nothing from the
 * profile or the environment can add a line), and rewriting its `envar`
 * values for explain and the golden files. Pure.
 */
/** `{ text }`: a long string written as one literal per line (adjacent literals concatenate). */
export type Scalar = string | number | boolean | { enum: string } | { text: string };
export type Field = [name: string, value: Scalar | Field[]];

/** A protobuf text-format string literal: printable ASCII as is, every other byte as an octal escape. */
export function protoString(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b === 0x0a) out += '\\n';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** Undo protoString (for the literals this module writes). */
export function parseProtoString(literal: string): string {
  if (!literal.startsWith('"') || !literal.endsWith('"') || literal.length < 2) throw new Error(`not a string literal: ${literal}`);
  const bytes: number[] = [];
  const body = literal.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\') {
      bytes.push(c.charCodeAt(0));
      continue;
    }
    const n = body[i + 1] ?? '';
    if (n === 'n') bytes.push(0x0a);
    else if (n === '"' || n === '\\') bytes.push(n.charCodeAt(0));
    else if (/^[0-7]{3}$/.test(body.slice(i + 1, i + 4))) {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 4), 8));
      i += 2;
    } else throw new Error(`unknown escape \\${n}`);
    i++;
  }
  return Buffer.from(bytes).toString('utf8');
}

function scalar(v: Exclude<Scalar, { text: string }>): string {
  if (typeof v === 'string') return protoString(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return v.enum;
}

const isScalar = (v: Scalar | Field[]): v is Exclude<Scalar, { text: string }> => !Array.isArray(v) && !(typeof v === 'object' && 'text' in v);

export function renderFields(fields: readonly Field[], indent: string): string[] {
  const out: string[] = [];
  for (const [name, value] of fields) {
    if (isScalar(value)) {
      // Every string on one line (newlines escaped): one envar per line, whatever its value.
      out.push(`${indent}${name}: ${scalar(value)}`);
    } else if (!Array.isArray(value)) {
      const parts = value.text.split(/(?<=\n)/);
      out.push(`${indent}${name}:`, ...parts.map((p) => `${indent}  ${protoString(p)}`));
    } else if (value.every(([, v]) => isScalar(v))) {
      // A message of scalars on one line (mount { src: ... dst: ... }), anything else indented.
      out.push(`${indent}${name} { ${value.map(([n, v]) => `${n}: ${scalar(v as Exclude<Scalar, { text: string }>)}`).join(' ')} }`);
    } else {
      out.push(`${indent}${name} {`, ...renderFields(value, `${indent}  `), `${indent}}`);
    }
  }
  return out;
}

/** Rewrite the values of `envar` lines (e.g. for explain, or golden files). */
export function mapConfigEnv(config: string, map: (name: string, value: string) => string): string {
  return config
    .split('\n')
    .map((line) => {
      const m = /^(\s*envar: )(".*")$/.exec(line);
      if (m?.[1] === undefined || m[2] === undefined) return line;
      const text = parseProtoString(m[2]);
      const eq = text.indexOf('=');
      const name = text.slice(0, eq);
      return `${m[1]}${protoString(`${name}=${map(name, text.slice(eq + 1))}`)}`;
    })
    .join('\n');
}
