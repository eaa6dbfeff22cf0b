import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { TerminalFilter, closeWhenDone, filteredText } from '../../src/run/tty/filter.js';
import { pick, rng, type Rand } from '../helpers/fuzz-values.js';

const E = '\x1b';
const ST = `${E}\\`;

/** The filter's output for `input` fed whole, and fed at every split into two reads and one byte at a time: all must agree. */
function filtered(input: string): string {
  const bytes = Buffer.from(input, 'utf8');
  const whole = new TerminalFilter().push(bytes).toString('latin1');
  for (let cut = 1; cut < bytes.length; cut++) {
    const f = new TerminalFilter();
    const split = Buffer.concat([f.push(bytes.subarray(0, cut)), f.push(bytes.subarray(cut))]).toString('latin1');
    expect(split, `split at ${cut}`).toBe(whole);
  }
  const f = new TerminalFilter();
  expect(Buffer.concat([...bytes].map((b) => f.push(Uint8Array.of(b)))).toString('latin1')).toBe(whole);
  return Buffer.from(whole, 'latin1').toString('utf8');
}

describe('the terminal filter', () => {
  it('passes text, UTF-8, colours, cursor moves and titles unchanged', () => {
    for (const s of ['plain text\r\n', 'héllo © 日本', `${E}[1;31mred${E}[0m`, `${E}[2J${E}[H`, `${E}]0;my title\x07`, `${E}]2;t${ST}`, `${E}[?1049h`, `${E}(B`, `${E}[22;0t${E}[23;0t`, `${E}]8;;http://x/?a=1${ST}link${E}]8;;${ST}`, `${E}P0;1;0q#0;2;0;0;0${ST}`]) {
      expect(filtered(s)).toBe(s);
    }
  });

  it('closes a string the command left open when its output ends, and when it is cut off (destroyed, never ended)', async () => {
    for (const stop of [(s: PassThrough) => s.end(), (s: PassThrough) => s.destroy()]) {
      const from = new PassThrough();
      const filter = new TerminalFilter();
      const written: Buffer[] = [];
      from.on('data', (chunk: Buffer) => written.push(filter.push(chunk)));
      closeWhenDone(from, filter, (rest) => written.push(rest));
      from.write(`${E}]0;open title`);
      await new Promise((r) => setImmediate(r));
      stop(from);
      await new Promise((r) => from.once('close', r));
      expect(Buffer.concat(written).toString('latin1')).toBe(`${E}]0;open title${ST}`);
    }
  });

  it('drops clipboard writes and reads (OSC 52), ended by BEL or ST, and keeps what is around them', () => {
    expect(filtered(`a${E}]52;c;ZXZpbA==\x07b`)).toBe('ab');
    expect(filtered(`a${E}]52;c;?${ST}b`)).toBe('ab');
    expect(filtered(`a\x9d52;c;ZXZpbA==\x9cb`)).toBe('ab');
  });

  it("drops the other terminals' clipboard and file writes (iTerm2's OSC 1337, kitty's OSC 5522 and 5113) and key programming (DECUDK)", () => {
    expect(filtered(`a${E}]1337;Copy=:ZXZpbA==\x07b`)).toBe('ab');
    expect(filtered(`a${E}]01337;ReportVariable=eA==${ST}b`)).toBe('ab');
    expect(filtered(`a${E}]5522;type=write;ZXZpbA==${ST}b`)).toBe('ab');
    expect(filtered(`a${E}]5113;ac=send;id=x${ST}b`)).toBe('ab');
    expect(filtered(`a${E}P0;1|17/6563686f${ST}b`)).toBe('ab');
  });

  it('drops colour and font queries, and passes colour settings', () => {
    expect(filtered(`${E}]11;?\x07x`)).toBe('x');
    expect(filtered(`${E}]4;1;?${ST}x`)).toBe('x');
    expect(filtered(`${E}]10;?${ST}`)).toBe('');
    expect(filtered(`${E}]11;#000000\x07`)).toBe(`${E}]11;#000000\x07`);
  });

  it('drops report requests: DA, DSR and cursor position, DECRQM, XTVERSION, window reports, DECRQSS, XTGETTCAP, ENQ', () => {
    for (const s of [`${E}[c`, `${E}[0c`, `${E}[>c`, `${E}[=c`, `${E}[5n`, `${E}[6n`, `${E}[?6n`, `${E}[?25$p`, `${E}[>q`, `${E}[21t`, `${E}[18t`, `${E}[14t`, `${E}[3;0;0t`, `${E}P$qm${ST}`, `${E}P+q544e${ST}`, '\x05', `${E}[?u`, `\x9b6n`]) {
      expect(filtered(`<${s}>`), JSON.stringify(s)).toBe('<>');
    }
  });

  it('drops the other requests a terminal answers: DECID, DECRQCRA (a checksum of the screen), DECRQPSR, DECRQTSR, xterm\'s feature queries, kitty\'s colour, pointer, text-size and notification queries', () => {
    for (const s of [`${E}Z`, `${E}[1;1;1;1;1;1*y`, `${E}[1$w`, `${E}[1$u`, `${E}]60\x07`, `${E}]61${ST}`, `${E}]21;foreground=?\x07`, `${E}]22;?__current__${ST}`, `${E}]66;?${ST}`, `${E}]99;i=1:p=?;${ST}`]) {
      expect(filtered(`<${s}>`), JSON.stringify(s)).toBe('<>');
    }
    expect(filtered(`${E}]21;foreground=red\x07`), 'setting a colour passes').toBe(`${E}]21;foreground=red\x07`);
  });

  it('drops the switches out of UTF-8 (ESC % @, ESC % G), after which the 8-bit controls it passes as text would act', () => {
    expect(filtered(`<${E}%@>`)).toBe('<>');
    expect(filtered(`<${E}%G>`)).toBe('<>');
  });

  it("drops tmux's passthrough, APC, PM and SOS strings", () => {
    // Its header is dropped, and what it wraps is read as a terminal outside tmux reads it: the clipboard write goes.
    const tmux = filtered(`<${E}Ptmux;${E}${E}]52;c;eA==\x07${ST}>`);
    expect(tmux).not.toContain('tmux');
    expect(tmux).not.toContain('52');
    expect(filtered(`<${E}_Gi=1,a=q;AAAA${ST}>`)).toBe('<>');
    expect(filtered(`<${E}^pm${ST}${E}Xsos${ST}>`)).toBe('<>');
  });

  it('reads an ESC inside a passed string as the start of the next sequence, as a terminal does', () => {
    expect(filtered(`${E}]0;title${E}]52;c;eA==\x07`)).toBe(`${E}]0;title${ST}`);
    expect(filtered(`${E}P0q#0${E}[6n!`)).toBe(`${E}P0q#0${ST}!`);
    expect(filtered(`${E}]0;t\x9b6n!`)).toBe(`${E}]0;t${ST}!`);
  });

  it('a CSI cut short by ESC or a C1 control is dropped, and what follows is read afresh', () => {
    expect(filtered(`${E}[12${E}[6nx`)).toBe('x');
    expect(filtered(`${E}[1\x9b5nx`)).toBe('x');
    // A stray C1 lead byte before one that begins a CSI: the CSI is still read (and dropped), and so is the stray byte,
    // which would otherwise begin a C1 control with what follows the CSI.
    expect(new TerminalFilter().push(Buffer.from([0xc2, 0xc2, 0x9b, 0x36, 0x6e, 0x78]))).toEqual(Buffer.from([0x78]));
    expect(new TerminalFilter().push(Buffer.from([0xc2, 0x1b, 0x5b, 0x36, 0x6e, 0x9d, 0x35, 0x32]))).toEqual(Buffer.from([0x9d, 0x35, 0x32]));
  });

  it('an overlong undecided sequence is dropped, not held for ever', () => {
    const f = new TerminalFilter();
    expect(f.push(Buffer.from(`${E}]11;${'a'.repeat(10000)}\x07ok`)).toString()).toBe('ok');
  });

  it('a whole text (what isolate mcp returns): filtered alike, and a sequence left undecided at its end dropped', () => {
    expect(filteredText(`héllo ${E}]52;c;ZXZpbA==\x07${E}[31mred${E}[0m${E}[6n`)).toBe(`héllo ${E}[31mred${E}[0m`);
    expect(filteredText(`tail ${E}]52;c;ZXZpbA==`)).toBe('tail ');
  });
});

/**
 * Red team: the filter dropped one sequence and passed the pieces around it, which joined into a new one. `ESC ] 5`
 * (an OSC cut short by ESC) was passed, the OSC 52 after it dropped, and the text after that completed
 * `ESC ] 52 ; c ; ... BEL` on the terminal. What passes must never hold a sequence the filter drops, however the
 * command splits, interrupts, nests or splices them.
 */
describe('the terminal filter, against sequences spliced around a dropped one', () => {
  const CLIP = `52;c;ZWNobyBwd25lZA==\x07`;

  it('an OSC cut short before its number is decided is dropped whole, so the text after a dropped sequence cannot complete it', () => {
    expect(filtered(`${E}]5${E}]${CLIP}2;c;ZWNobyBwd25lZA==\x07`)).toBe('2;c;ZWNobyBwd25lZA==\x07');
    expect(filtered(`${E}]${E}[6n${CLIP}`)).toBe(CLIP);
    expect(filtered(`\x9d5\x9d${CLIP}2;c;eA==\x07`)).toBe('2;c;eA==\x07');
    expect(filtered(`${E}]5\x182;c;eA==\x07`)).toBe('\x182;c;eA==\x07');
    expect(filtered(`${E}]5\x1a2;c;eA==\x07`)).toBe('\x1a2;c;eA==\x07');
  });

  it('a colour setting cut short is dropped whole: what follows cannot turn it into a query', () => {
    expect(filtered(`${E}]11;#000${E}[6n;?\x07`)).toBe(';?\x07');
    expect(filtered(`${E}]11;#000\x18;?\x07`)).toBe('\x18;?\x07');
  });

  it('a string already passing (a title, sixel) that is cut short is closed with ST before what follows', () => {
    expect(filtered(`${E}]0;title${E}]${CLIP}more`)).toBe(`${E}]0;title${ST}more`);
    expect(filtered(`${E}P0q#0${E}[6n!`)).toBe(`${E}P0q#0${ST}!`);
    expect(filtered(`${E}]0;t\x18x`)).toBe(`${E}]0;t${ST}\x18x`);
    expect(filteredText(`${E}]0;open title`)).toBe(`${E}]0;open title${ST}`);
  });

  it('an escape sequence with intermediates (ESC ( B) cut short is dropped, not passed in halves', () => {
    expect(filtered(`${E}(${E}[6nB`)).toBe('B');
    expect(filtered(`${E}(B`)).toBe(`${E}(B`);
    // A control after ESC leaves a terminal in the escape: ESC LF ] 52 is an OSC 52 to it.
    expect(filtered(`${E}\n]${CLIP}`)).toBe(`\n]${CLIP}`);
  });

  it('an OSC number read as a terminal reads it: leading zeros, and controls or DEL inside, which a terminal ignores', () => {
    for (const s of [`${E}]0${CLIP}`, `${E}]00000000000${CLIP}`, `${E}]0011;?\x07`, `${E}]5\n${CLIP.slice(1)}`, `${E}]5\x7f${CLIP.slice(1)}`, `${E}]11;\x7f?\x07`, `${E}]11;\n?\x07`]) {
      expect(filtered(`<${s}>`), JSON.stringify(s)).toBe('<>');
    }
  });

  it('report requests with controls inside, or a long DCS header, are still told', () => {
    for (const s of [`${E}[?\nu`, `${E}[>\x7fq`, `${E}P$\nqm${ST}`, `${E}P0;0;0;0;0;0;0;0;0;0$qm${ST}`, `${E}P1:2$qm${ST}`]) {
      expect(filtered(`<${s}>`), JSON.stringify(s)).toBe('<>');
    }
    // ENQ inside a sequence: a terminal answers it there too.
    expect(filtered(`${E}[3\x05m${E}]0;t\x05${ST}`)).toBe(`${E}[3m${E}]0;t${ST}`);
  });
});

/** Pieces of sequences, allowed and dropped, whole and cut, that a command may splice in any order. */
const PIECES = [
  'ab', 'é', '\n', '\x07', '\x18', '\x1a', '\x7f', '\x05', ';', '?', '2', '5', '52;c;eA==', '2;c;eA==\x07', ';?\x07', 'q', '$', 'm', '6n', '\\', ']', '[', 'P',
  E, `${E}]`, `${E}]5`, `${E}]52`, `${E}]0`, `${E}]11;`, `${E}[`, `${E}[?`, `${E}[>`, `${E}P`, `${E}P$`, `${E}(`, ST, '\x9d', '\x9b', '\x90', '\x9c', '\xc2',
  `${E}[31m`, `${E}]0;title\x07`, `${E}]0;t${ST}`, `${E}]11;#000\x07`, `${E}P0;1;0q#0${ST}`, `${E}(B`, `${E}]8;;http://x/${ST}`,
  `${E}]52;c;eA==\x07`, `${E}]52;c;?${ST}`, `\x9d52;c;eA==\x9c`, `${E}[6n`, `${E}[?u`, `${E}]11;?\x07`, `${E}P$qm${ST}`, `${E}_Ga=q${ST}`, `${E}[3\x05m`,
].map((s) => Buffer.from(s, 'utf8'));
/** Lone bytes: the UTF-8 lead byte of a C1 control, and 8-bit C1 controls. */
const BYTES = [0xc2, 0x9d, 0x9b, 0x9c].map((b) => Buffer.of(b));

/** Bytes a terminal ignores inside a sequence (C0 controls but those that end one, and DEL). */
const IGN = String.raw`[\x00-\x06\x08-\x17\x19\x1c-\x1f\x7f]*`;
/** OSC 52 after its introducer, as a terminal reads the number. */
const OSC52 = String.raw`\]${IGN}(?:0${IGN})*5${IGN}2(?!${IGN}\d)`;
/** What the filter drops, as it reads (the pieces above that it must never let out whole, in any form). */
const DROPPED = new RegExp(String.raw`\x1b${OSC52}|\xc2\x9d${OSC52.slice(2)}|\x1b\[\??[0-9;]*n|\x1b\[\?u|\x1b\]11;\?(?:[;\x07]|\x1b\\)|\x1bP\$q|\x1b_|\x05`);

/** Bytes as text a failure message shows, every byte outside printable ASCII as \xNN. */
const visible = (bytes: Buffer): string => [...bytes].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');

/** `bytes` through one filter, cut into reads at random. */
function throughFilter(bytes: Buffer, r: Rand): Buffer {
  const f = new TerminalFilter();
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + Math.floor(r() * 8);
    parts.push(f.push(bytes.subarray(at, at + n)));
    at += n;
  }
  parts.push(f.end());
  return Buffer.concat(parts);
}

describe('the terminal filter, on random splices of pieces in random reads', () => {
  it('passes nothing it would drop: its output, filtered again, is unchanged; whole and cut reads agree', () => {
    const r = rng(0x5eed);
    for (let round = 0; round < 20000; round++) {
      const input = Buffer.concat(Array.from({ length: 1 + Math.floor(r() * 10) }, () => pick(r, r() < 0.1 ? BYTES : PIECES)));
      const out = throughFilter(input, r);
      const whole = new TerminalFilter();
      const shown = visible(input);
      expect(out.toString('latin1'), `cut reads, ${shown}`).toBe(Buffer.concat([whole.push(input), whole.end()]).toString('latin1'));
      expect(throughFilter(out, r).toString('latin1'), `filtered again, ${shown}`).toBe(out.toString('latin1'));
      expect(DROPPED.test(out.toString('latin1')), `a dropped sequence in ${visible(out)} from ${shown}`).toBe(false);
    }
  });
});
