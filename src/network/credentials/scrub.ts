/**
 * Replace every real value in a stream of bytes by its mask (the
 * placeholder, cut to the value's length), across the boundaries of the
 * pieces the stream arrives in: the last (longest value - 1) bytes of each
 * piece wait for the next one. The replacement keeps the length, so a
 * Content-Length or a chunk size stays true.
 */
export interface Replacement {
  from: Buffer;
  to: Buffer;
}

export interface Scrubber {
  /**
   * The bytes that can be passed on now, in order. `chunk` is scrubbed in
   * place and the parts may be views of it: the caller gives it up (reuses
   * it only once the parts have been written).
   */
  push(chunk: Buffer): Buffer[];
  /** The bytes held back, at the end of the stream. */
  flush(): Buffer;
}

function replaceAll(data: Buffer, replacements: readonly Replacement[]): void {
  for (const { from, to } of replacements) {
    for (let at = data.indexOf(from); at !== -1; at = data.indexOf(from, at + from.length)) to.copy(data, at);
  }
}

/**
 * The ways a server writes text that change a value with characters other
 * than letters and digits (`abc/def+ghi=`): percent-encoded (a URL or query
 * it echoes, in upper or lower case hex), and escaped in JSON (`\/` as PHP
 * writes a slash, `\"`, `\\`; `\u003c` for <, > and & as Go writes them).
 */
const ESCAPES: readonly ((s: string) => string)[] = [
  (s) => encodeURIComponent(s),
  (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
  (s) => s.replace(/[\\"/]/g, (c) => `\\${c}`),
  (s) => s.replace(/[\\"]/g, (c) => `\\${c}`),
  (s) => s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`),
];

/** `value` as each escape writes it (when that changes it), with `mask` written so, of the same length. */
function escapedForms(value: Buffer, mask: Buffer): Replacement[] {
  const text = value.toString('latin1');
  const forms = new Map<string, string>();
  for (const escape of ESCAPES) {
    const from = escape(text);
    // A mask of the same length as the form: the placeholder keeps the value's other characters in their places, so it mostly is.
    if (from !== text) forms.set(from, escape(mask.toString('latin1')).padEnd(from.length, 'x').slice(0, from.length));
  }
  return [...forms].map(([from, to]) => ({ from: Buffer.from(from, 'latin1'), to: Buffer.from(to, 'latin1') }));
}

/**
 * The replacements for one value and its mask: the value itself, its
 * escaped forms (escapedForms), and its base64 forms at each of the three
 * offsets it can have in an encoded text (an echoed `Authorization: Basic`
 * header carries it so): the characters that encode only the value's
 * bytes, which are the same wherever it sits.
 */
export function replacementsFor(value: Buffer, mask: Buffer): Replacement[] {
  const out: Replacement[] = [{ from: value, to: mask }, ...escapedForms(value, mask)];
  for (let offset = 0; offset < 3; offset++) {
    const first = Math.ceil(offset / 3);
    const end = Math.floor((offset + value.length) / 3);
    const encode = (b: Buffer): Buffer => Buffer.from(Buffer.concat([Buffer.alloc(offset), b]).toString('base64').slice(4 * first, 4 * end), 'latin1');
    const from = encode(value);
    if (from.length >= 8) out.push({ from, to: encode(mask) });
  }
  return out;
}

/**
 * Nothing is copied but the seams: a value that starts in the carried
 * bytes (at most `keep`, the longest value's length - 1) ends within the
 * next `keep` bytes, so the carry and the chunk's first `keep` bytes are
 * scrubbed together, the chunk's part written back, then the chunk itself
 * is scrubbed where it lies and its last `keep` bytes carried.
 */
export function scrubber(given: readonly Replacement[]): Scrubber {
  // Longest first: a value inside a longer one (two credentials, one token the start of the other) would otherwise be replaced within it, and the rest of the longer one pass.
  const replacements = [...given].sort((a, b) => b.from.length - a.from.length);
  const keep = Math.max(0, ...replacements.map((r) => r.from.length - 1));
  let carry = Buffer.alloc(0);
  const small = (chunk: Buffer): Buffer[] => {
    const data = Buffer.concat([carry, chunk]);
    replaceAll(data, replacements);
    const cut = Math.max(0, data.length - keep);
    carry = data.subarray(cut);
    return cut === 0 ? [] : [data.subarray(0, cut)];
  };
  return {
    push(chunk) {
      if (carry.length + chunk.length <= 2 * keep) return small(chunk);
      const seam = Buffer.concat([carry, chunk.subarray(0, keep)]);
      replaceAll(seam, replacements);
      seam.copy(chunk, 0, carry.length);
      replaceAll(chunk, replacements);
      const cut = chunk.length - keep;
      const head = seam.subarray(0, carry.length);
      // A copy: the chunk is passed on, and its writer may reuse it once written.
      carry = Buffer.from(chunk.subarray(cut));
      return head.length === 0 ? [chunk.subarray(0, cut)] : [head, chunk.subarray(0, cut)];
    },
    flush() {
      const rest = carry;
      carry = Buffer.alloc(0);
      return rest;
    },
  };
}
