/**
 * The spellings of a value the response scrubber must find (scrub.ts): each
 * character other than a letter or digit written on its own way, as
 * encoders do (Python's quote() keeps / and encodes + and =, Go's
 * url.PathEscape the other way round, .NET's JSON writes \u002B), and its
 * base64 forms wrapped in lines (MIME at 76 columns with CRLF, PEM and
 * GitHub's API at 60 with LF). Each echo is cut at every point, so a match
 * split between two pieces of a response is caught too.
 */
import { describe, expect, it } from 'vitest';
import { makePlaceholder } from '../../src/network/credentials/placeholder.js';
import { replacementsFor, scrubber } from '../../src/network/credentials/scrub.js';

const VALUE = 'rt2REAL/Abc+Def9/Ghi+Jkl=';
/** A value long enough that its placeholder keeps its / + = (placeholder.ts). */
const LONG = 'rt2REAL/Abc+Def9/Ghi+Jkl/Mno+Pqr8/Stu+Vwx=';
const PLACEHOLDERS = new Map([VALUE, LONG].map((v) => [v, makePlaceholder(v).slice(0, v.length)]));

/** `text` through a fresh scrubber for `value`, in two pieces cut at `cut`. */
function scrubbed(text: string, cut: number, value = VALUE): string {
  const s = scrubber(replacementsFor(Buffer.from(value, 'latin1'), Buffer.from(PLACEHOLDERS.get(value) ?? '', 'latin1')));
  const pieces = [text.slice(0, cut), text.slice(cut)].map((p) => Buffer.from(p, 'latin1'));
  return Buffer.concat([...pieces.flatMap((p) => s.push(p)), s.flush()]).toString('latin1');
}

/** Every way of cutting `text` in two: the value must be gone, and the length kept, in each. */
function everyCut(text: string): string[] {
  return Array.from({ length: text.length + 1 }, (_, cut) => scrubbed(text, cut));
}

const percent = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
const unicode = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
const jsonDecode = (e: string): string => JSON.parse(`"${e}"`) as string;

/** The echoes of a value, each with how a client reads it back. */
const ESCAPED: readonly [string, (value: string) => string, (echo: string) => string][] = [
  ['python quote()', (v) => v.replace(/[+=]/g, percent), decodeURIComponent],
  ['go url.PathEscape', (v) => v.replace(/\//g, percent), decodeURIComponent],
  ['percent, mixed hex case', (v) => v.replace(/[/+=]/g, (c) => percent(c).toLowerCase()).replace('%2b', '%2B'), decodeURIComponent],
  ['.NET JSON, upper-case hex', (v) => v.replace(/\+/g, (c) => unicode(c).toUpperCase().replace('\\U', '\\u')), jsonDecode],
  ['JSON, lower-case hex, every character', (v) => v.replace(/[/+=]/g, unicode), jsonDecode],
  ['JSON, \\/ and \\u002b mixed', (v) => v.replace(/\//g, '\\/').replace(/\+/g, unicode), jsonDecode],
];

describe('the scrubber, a value with / + = in the spellings servers write it', () => {
  it.each(ESCAPED)('%s: the value is replaced wherever the echo is cut, and the length kept', (_name, escape, decode) => {
    expect(decode(escape(VALUE))).toBe(VALUE);
    const text = `{"echo":"${escape(VALUE)}"}`;
    for (const out of everyCut(text)) {
      expect(out).toHaveLength(text.length);
      const shown = decode(/"echo":"(.*)"/.exec(out)?.[1] ?? '');
      expect(shown, out).not.toBe(VALUE);
      expect(shown.slice(0, 7), out).not.toBe(VALUE.slice(0, 7));
    }
  });

  it('the mask is written in the spelling of the echo: a client decodes the placeholder', () => {
    for (const [name, escape, decode] of ESCAPED) expect(decode(scrubbed(escape(LONG), 0, LONG)), name).toBe(PLACEHOLDERS.get(LONG));
  });
});

/** base64 of `text` in lines of `columns`, each ended by `eol`. */
function wrapped(text: string, columns: number, eol: string): string {
  return (Buffer.from(text, 'latin1').toString('base64').match(new RegExp(`.{1,${columns}}`, 'g')) ?? []).join(eol) + eol;
}

describe('the scrubber, a value in base64 wrapped in lines', () => {
  const cases: [string, number, string][] = [
    ['MIME, 76 columns, CRLF', 76, '\r\n'],
    ['PEM and GitHub, 60 columns, LF', 60, '\n'],
  ];
  it.each(cases)('%s: replaced wherever the line ends fall in it and wherever the text is cut', (_name, columns, eol) => {
    // Prefixes that put the value at each of base64's three offsets and each line end at several places in its form.
    for (let prefix = 30; prefix < 60; prefix++) {
      const text = wrapped(`${'p'.repeat(prefix)}${VALUE} and more`, columns, eol);
      for (const out of everyCut(text)) {
        expect(out).toHaveLength(text.length);
        const decoded = Buffer.from(out.replace(/\r?\n/g, ''), 'base64').toString('latin1');
        expect(decoded, `prefix ${prefix}`).not.toContain(VALUE.slice(2, -2));
      }
    }
  });
});

describe('the scrubber, a value in base64url (RFC 4648 §5: JWTs, URLs)', () => {
  // Characters whose 6-bit groups are 62 and 63 at some offset: base64url writes them - and _ where base64 writes + and /.
  const URLISH = 'Zq?>~?>~Zq?>~?>~Zq?>~?>~Zq?>~';
  const mask = makePlaceholder(URLISH).slice(0, URLISH.length);
  it('is replaced at each of the three offsets wherever the text is cut, and the client decodes the mask', () => {
    for (let prefix = 0; prefix < 3; prefix++) {
      const b64url = Buffer.from(`${'p'.repeat(prefix)}${URLISH}`, 'latin1').toString('base64url');
      expect(b64url).toMatch(/[-_]/);
      const text = `{"echo":"${b64url}"}`;
      for (let cut = 0; cut <= text.length; cut++) {
        const s = scrubber(replacementsFor(Buffer.from(URLISH, 'latin1'), Buffer.from(mask, 'latin1')));
        const out = Buffer.concat([...[text.slice(0, cut), text.slice(cut)].flatMap((p) => s.push(Buffer.from(p, 'latin1'))), s.flush()]).toString('latin1');
        expect(out).toHaveLength(text.length);
        const decoded = Buffer.from(/"echo":"(.*)"/.exec(out)?.[1] ?? '', 'base64url').toString('latin1');
        expect(decoded, `prefix ${prefix}, cut ${cut}`).not.toContain(URLISH.slice(2, -2));
      }
    }
  });
});
