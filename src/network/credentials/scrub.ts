/**
 * Replace every real value in a stream of bytes by its mask (the
 * placeholder, cut to the value's length), in any of its spellings
 * (spellings.ts), across the boundaries of the pieces the stream arrives
 * in: the last (longest match - 1) bytes of each piece wait for the next
 * one. The replacement keeps the length, so a Content-Length or a chunk
 * size stays true.
 */
import { replacer, type Replacement } from './spellings.js';

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

/**
 * The replacements for one value and its mask: the value itself, in each
 * spelling (spellings.ts), and its base64 and base64url forms at each of the three
 * offsets it can have in an encoded text (an echoed `Authorization: Basic`
 * header carries it so): the characters that encode only the value's
 * bytes, which are the same wherever it sits. Base64 is often wrapped in
 * lines (MIME at 76 columns with CRLF, PEM at 64, GitHub's API at 60 with
 * LF), and where a line ends in the form depends on what comes before the
 * value: a line end may stand anywhere in it.
 */
export function replacementsFor(value: Buffer, mask: Buffer): Replacement[] {
  const out: Replacement[] = [{ from: value.toString('latin1'), to: mask.toString('latin1') }];
  for (let offset = 0; offset < 3; offset++) {
    const first = Math.ceil(offset / 3);
    const end = Math.floor((offset + value.length) / 3);
    for (const alphabet of BASE64_ALPHABETS) {
      const encode = (b: Buffer): string => Buffer.concat([Buffer.alloc(offset), b]).toString(alphabet).slice(4 * first, 4 * end);
      const from = encode(value);
      if (from.length >= 8 && !out.some((r) => r.from === from)) out.push({ from, to: encode(mask), wrapped: true });
    }
  }
  return out;
}

/** base64, and base64url (RFC 4648 §5: JWTs, URLs), which writes - and _ where base64 writes + and /. */
const BASE64_ALPHABETS = ['base64', 'base64url'] as const;

/**
 * Nothing is copied but the seams: a value that starts in the carried
 * bytes (at most `keep`, the longest match's length - 1) ends within the
 * next `keep` bytes, so the carry and the chunk's first `keep` bytes are
 * scrubbed together, the chunk's part written back, then the chunk itself
 * is scrubbed where it lies and its last `keep` bytes carried. Only
 * matches that start before the bytes carried on are replaced: one that
 * starts there may be the start of a longer value (one credential's value
 * the start of another's) whose end is still to come, and is replaced
 * with the next piece, or at the end.
 */
export function scrubber(replacements: readonly Replacement[]): Scrubber {
  const { longest, replaceIn } = replacer(replacements);
  const keep = Math.max(0, longest - 1);
  let carry = Buffer.alloc(0);
  const small = (chunk: Buffer): Buffer[] => {
    const data = Buffer.concat([carry, chunk]);
    const cut = Math.max(0, data.length - keep);
    replaceIn(data, cut);
    carry = data.subarray(cut);
    return cut === 0 ? [] : [data.subarray(0, cut)];
  };
  return {
    push(chunk) {
      if (carry.length + chunk.length <= 2 * keep) return small(chunk);
      const seam = Buffer.concat([carry, chunk.subarray(0, keep)]);
      replaceIn(seam, carry.length);
      seam.copy(chunk, 0, carry.length);
      const cut = chunk.length - keep;
      replaceIn(chunk, cut);
      const head = seam.subarray(0, carry.length);
      // A copy: the chunk is passed on, and its writer may reuse it once written.
      carry = Buffer.from(chunk.subarray(cut));
      return head.length === 0 ? [chunk.subarray(0, cut)] : [head, chunk.subarray(0, cut)];
    },
    flush() {
      const rest = carry;
      carry = Buffer.alloc(0);
      replaceIn(rest);
      return rest;
    },
  };
}
