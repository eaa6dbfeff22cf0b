import { describe, expect, it } from 'vitest';
import { TerminalFilter, filteredText } from '../../src/run/tty/filter.js';

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

  it('drops clipboard writes and reads (OSC 52), ended by BEL or ST, and keeps what is around them', () => {
    expect(filtered(`a${E}]52;c;ZXZpbA==\x07b`)).toBe('ab');
    expect(filtered(`a${E}]52;c;?${ST}b`)).toBe('ab');
    expect(filtered(`a\x9d52;c;ZXZpbA==\x9cb`)).toBe('ab');
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

  it("drops tmux's passthrough, APC, PM and SOS strings", () => {
    // Its header is dropped, and what it wraps is read as a terminal outside tmux reads it: the clipboard write goes.
    const tmux = filtered(`<${E}Ptmux;${E}${E}]52;c;eA==\x07${ST}>`);
    expect(tmux).not.toContain('tmux');
    expect(tmux).not.toContain('52');
    expect(filtered(`<${E}_Gi=1,a=q;AAAA${ST}>`)).toBe('<>');
    expect(filtered(`<${E}^pm${ST}${E}Xsos${ST}>`)).toBe('<>');
  });

  it('reads an ESC inside a passed string as the start of the next sequence, as a terminal does', () => {
    expect(filtered(`${E}]0;title${E}]52;c;eA==\x07`)).toBe(`${E}]0;title`);
    expect(filtered(`${E}P0q#0${E}[6n!`)).toBe(`${E}P0q#0!`);
    expect(filtered(`${E}]0;t\x9b6n!`)).toBe(`${E}]0;t!`);
  });

  it('a CSI cut short by ESC or a C1 control is dropped, and what follows is read afresh', () => {
    expect(filtered(`${E}[12${E}[6nx`)).toBe('x');
    expect(filtered(`${E}[1\x9b5nx`)).toBe('x');
    // A stray C1 lead byte before one that begins a CSI: the CSI is still read (and dropped).
    expect(new TerminalFilter().push(Buffer.from([0xc2, 0xc2, 0x9b, 0x36, 0x6e, 0x78]))).toEqual(Buffer.from([0xc2, 0x78]));
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
