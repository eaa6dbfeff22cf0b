/**
 * The relay's filter on the way to the user's terminal: a state machine over
 * bytes that holds an escape sequence split across reads until it can decide
 * it (filter-rules.ts says which are dropped). Strings (OSC, DCS, APC, PM,
 * SOS) end where a terminal ends them: ST (ESC \ or its UTF-8 C1 form), BEL
 * for OSC, CAN or SUB, or any other ESC, which starts the next sequence and
 * is read as one. APC, PM and SOS are dropped whole; ENQ (answerback) too.
 */
import { MAX_DECIDING, dropCsi, dropDcs, dropWholeOsc, oscByNumber, splitCsi } from './filter-rules.js';

const ESC = 0x1b;
const BEL = 0x07;
const ENQ = 0x05;
const CAN = 0x18;
const SUB = 0x1a;
/** The lead byte of a C1 control in UTF-8 (U+0080..U+009F). */
const C2 = 0xc2;

type State = 'ground' | 'esc' | 'c2' | 'csi' | 'string';
/** In a string: read its number or header (osc, dcs), read it whole (whole), pass or drop the rest of it. */
type Mode = 'osc' | 'dcs' | 'whole' | 'pass' | 'drop';

/** The sequence kinds, by the byte after ESC or after the UTF-8 C1 lead byte. */
function kindOf(byte: number, c1: boolean): 'csi' | 'osc' | 'dcs' | 'other-string' | undefined {
  const b = c1 ? byte - 0x40 : byte;
  if (b === 0x5b) return 'csi';
  if (b === 0x5d) return 'osc';
  if (b === 0x50) return 'dcs';
  if (b === 0x58 || b === 0x5e || b === 0x5f) return 'other-string';
  return undefined;
}

export class TerminalFilter {
  private state: State = 'ground';
  private mode: Mode = 'pass';
  /** The undecided sequence, as received. */
  private seq: number[] = [];
  /** The bytes after the introducer (CSI body, OSC number and payload, DCS header). */
  private body = '';
  /** In a string, the previous byte was ESC, or the UTF-8 C1 lead byte. */
  private strEsc = false;
  private strC2 = false;
  /** The string is an OSC, which BEL ends too. */
  private osc = false;
  private out: number[] = [];

  /** The part of `chunk` (after what came before it) that may reach the terminal now. */
  push(chunk: Uint8Array): Buffer {
    const parts: Buffer[] = [];
    let runStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (this.state === 'ground' && b !== ESC && b !== ENQ && b !== C2) continue;
      if (this.state === 'ground') {
        if (i > runStart) parts.push(Buffer.from(chunk.subarray(runStart, i)));
      }
      this.step(b);
      if (this.out.length > 0) {
        parts.push(Buffer.from(this.out));
        this.out = [];
      }
      runStart = i + 1;
    }
    if (this.state === 'ground' && runStart < chunk.length) parts.push(Buffer.from(chunk.subarray(runStart)));
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  private step(b: number): void {
    switch (this.state) {
      case 'ground':
        return this.ground(b);
      case 'esc':
      case 'c2':
        return this.introduced(b);
      case 'csi':
        return this.csi(b);
      case 'string':
        return this.string(b);
    }
  }

  private ground(b: number): void {
    if (b === ENQ) return;
    if (b === ESC || b === C2) {
      this.seq = [b];
      this.state = b === ESC ? 'esc' : 'c2';
      return;
    }
    this.out.push(b);
  }

  /** The byte after ESC or after the UTF-8 C1 lead byte. */
  private introduced(b: number): void {
    const kind = kindOf(b, this.state === 'c2');
    this.seq.push(b);
    this.body = '';
    if (kind === undefined) {
      // Not a sequence the filter reads: the two bytes pass (but a second ESC or C1 lead byte may begin one).
      const again = b === ESC || b === C2;
      this.flush(again ? this.seq.slice(0, -1) : this.seq);
      this.state = 'ground';
      if (again) this.ground(b);
      return;
    }
    if (kind === 'csi') this.state = 'csi';
    else this.enterString(kind === 'osc' ? 'osc' : kind === 'dcs' ? 'dcs' : 'drop');
  }

  private enterString(mode: Mode): void {
    this.state = 'string';
    this.mode = mode;
    this.strEsc = false;
    this.strC2 = false;
    this.osc = mode === 'osc';
    if (mode === 'drop') this.seq = [];
  }

  private csi(b: number): void {
    // ESC, CAN, SUB or a byte outside ASCII (a UTF-8 C1 control) ends it unfinished, as a terminal reads it.
    if (b === ESC || b === CAN || b === SUB || b >= 0x80) return this.abort(b);
    this.seq.push(b);
    if (b >= 0x40 && b <= 0x7e) {
      if (!dropCsi(splitCsi(this.body, String.fromCharCode(b)))) this.flush(this.seq);
      this.seq = [];
      this.state = 'ground';
      return;
    }
    this.body += String.fromCharCode(b);
    if (this.seq.length > MAX_DECIDING) this.abort(undefined);
  }

  /** An unfinished sequence cut short: dropped; `b` (ESC, CAN, SUB) read afresh. */
  private abort(b: number | undefined): void {
    this.seq = [];
    this.state = 'ground';
    if (b !== undefined) this.ground(b);
  }

  private flush(bytes: readonly number[]): void {
    for (const x of bytes) this.out.push(x);
    this.seq = [];
  }

  private string(b: number): void {
    if (this.strEsc) return this.afterStringEsc(b);
    if (this.strC2) return this.afterStringC2(b);
    if (b === ESC || b === C2) {
      if (b === ESC) this.strEsc = true;
      else this.strC2 = true;
      return;
    }
    if (b === CAN || b === SUB) return this.endString([], b);
    if (b === BEL && this.osc) return this.endString([BEL]);
    this.stringByte(b);
  }

  private afterStringEsc(b: number): void {
    this.strEsc = false;
    if (b === 0x5c) return this.endString([ESC, 0x5c]);
    // ESC ends the string and begins the next sequence.
    this.endString([]);
    this.ground(ESC);
    this.step(b);
  }

  private afterStringC2(b: number): void {
    this.strC2 = false;
    if (b === 0x9c) return this.endString([C2, 0x9c]);
    if (kindOf(b, true) !== undefined) {
      this.endString([]);
      this.ground(C2);
      this.step(b);
      return;
    }
    this.stringByte(C2);
    this.stringByte(b);
  }

  /** One byte of a string's content, by the string's mode. */
  private stringByte(b: number): void {
    switch (this.mode) {
      case 'pass':
        return void this.out.push(b);
      case 'drop':
        return;
      case 'osc':
        return this.oscNumberByte(b);
      case 'dcs':
        return this.dcsHeaderByte(b);
      case 'whole':
        this.seq.push(b);
        this.body += String.fromCharCode(b);
        if (this.seq.length > MAX_DECIDING) this.decide('drop');
        return;
    }
  }

  private oscNumberByte(b: number): void {
    this.seq.push(b);
    if (b >= 0x30 && b <= 0x39 && this.body.length < 8) {
      this.body += String.fromCharCode(b);
      return;
    }
    this.decide(oscByNumber(this.body));
  }

  private dcsHeaderByte(b: number): void {
    this.seq.push(b);
    this.body += String.fromCharCode(b);
    // The header ends with its final byte (0x40-0x7e); tmux's "tmux;" is read far enough to be told.
    if ((b >= 0x40 && b <= 0x7e) || this.body.length >= 16) this.decide(dropDcs(this.body) ? 'drop' : 'pass');
  }

  /** The string's fate, now that enough of it is read: what was held goes out (pass) or away (drop), or is kept (whole). */
  private decide(mode: Mode): void {
    this.mode = mode;
    if (mode === 'pass') this.flush(this.seq);
    if (mode === 'drop') this.seq = [];
    if (mode === 'whole') this.body = '';
  }

  /** The string ended with `terminator`; `reread`: CAN or SUB, which a terminal acts on. */
  private endString(terminator: number[], reread?: number): void {
    const mode = this.mode;
    if (mode === 'osc') this.mode = oscByNumber(this.body) === 'drop' ? 'drop' : 'pass';
    if (this.mode === 'pass') this.flush([...this.seq, ...terminator]);
    if (mode === 'whole' && !dropWholeOsc(this.body)) this.flush([...this.seq, ...terminator]);
    this.seq = [];
    this.state = 'ground';
    if (reread !== undefined) this.out.push(reread);
  }
}

/**
 * A whole text through the filter, as the relay would pass it to a terminal: what `isolate mcp` returns of a command's
 * output, which an assistant may show in the user's terminal. A sequence still undecided at the end is dropped.
 */
export function filteredText(text: string): string {
  return new TerminalFilter().push(Buffer.from(text, 'utf8')).toString('utf8');
}
