/**
 * The relay's filter on the way to the user's terminal: a state machine over
 * bytes that holds an escape sequence split across reads until it can decide
 * it (filter-rules.ts says which are dropped). Strings (OSC, DCS, APC, PM,
 * SOS) end where a terminal ends them: ST (ESC \ or its UTF-8 C1 form), BEL
 * for OSC, CAN or SUB, or any other ESC, which starts the next sequence and
 * is read as one. APC, PM and SOS are dropped whole; ENQ (answerback) too,
 * wherever it comes, as a terminal answers it inside a sequence as well.
 *
 * What passes is whole, so the pieces around a dropped sequence cannot join
 * into another on the terminal (`ESC ] 5`, a dropped OSC 52, then
 * `2;c;...BEL` was a clipboard write). A sequence cut short before it is
 * decided is dropped whole; a string already passing (a title, a sixel
 * image: passed as it comes, however long) is closed with ST when it is cut
 * short or left open at the end.
 */
import type { Readable } from 'node:stream';
import { MAX_DCS_HEADER, MAX_DECIDING, dropCsi, dropDcs, dropEsc, dropWholeOsc, ignoredInSequence, oscByNumber, splitCsi } from './filter-rules.js';

const ESC = 0x1b;
const BEL = 0x07;
const ENQ = 0x05;
const CAN = 0x18;
const SUB = 0x1a;
/** The lead byte of a C1 control in UTF-8 (U+0080..U+009F). */
const C2 = 0xc2;
const ST = [ESC, 0x5c];

/** esc: after ESC; nf: after ESC and intermediate bytes (ESC ( B); c2: after the UTF-8 C1 lead byte. */
type State = 'ground' | 'esc' | 'nf' | 'c2' | 'csi' | 'string';
/** In a string: read its number or header (osc, dcs), read it whole (whole), pass or drop the rest of it. */
type Mode = 'osc' | 'dcs' | 'whole' | 'pass' | 'drop';
type Kind = 'csi' | 'osc' | 'dcs' | 'other-string';

/** The sequence kinds, by the byte after ESC or after the UTF-8 C1 lead byte. */
function kindOf(byte: number, c1: boolean): Kind | undefined {
  const b = c1 ? byte - 0x40 : byte;
  if (b === 0x5b) return 'csi';
  if (b === 0x5d) return 'osc';
  if (b === 0x50) return 'dcs';
  if (b === 0x58 || b === 0x5e || b === 0x5f) return 'other-string';
  return undefined;
}

const isIntermediate = (b: number): boolean => b >= 0x20 && b <= 0x2f;
const isEscFinal = (b: number): boolean => b >= 0x30 && b <= 0x7e;
const isFinal = (b: number): boolean => b >= 0x40 && b <= 0x7e;
/**
 * The UTF-8 C1 lead byte passes only with a continuation byte (a character U+0080..U+00BF); alone it is dropped, since
 * what follows a sequence the filter drops after it could complete it (C2, a dropped CSI, then 0x9D: an OSC).
 */
const continuesLead = (b: number): boolean => b >= 0x80 && b <= 0xbf;

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
      if (this.out.length > 0) parts.push(this.take());
      runStart = i + 1;
    }
    if (this.state === 'ground' && runStart < chunk.length) parts.push(Buffer.from(chunk.subarray(runStart)));
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  /** The end of the output: a string still passing is closed, so what the terminal shows next is not read into it; an undecided sequence is dropped. */
  end(): Buffer {
    if (this.state === 'string') this.cutString();
    this.seq = [];
    this.state = 'ground';
    return this.take();
  }

  private take(): Buffer {
    const bytes = Buffer.from(this.out);
    this.out = [];
    return bytes;
  }

  private step(b: number): void {
    if (b === ENQ) return;
    switch (this.state) {
      case 'ground':
        return this.ground(b);
      case 'esc':
        return this.afterEsc(b);
      case 'nf':
        return this.afterIntermediate(b);
      case 'c2':
        return this.afterC2(b);
      case 'csi':
        return this.csi(b);
      case 'string':
        return this.string(b);
    }
  }

  private ground(b: number): void {
    if (b === ESC || b === C2) {
      this.seq = [b];
      this.state = b === ESC ? 'esc' : 'c2';
      return;
    }
    this.out.push(b);
  }

  /** The byte after ESC: an introducer, an intermediate, a final; anything else (a control a terminal runs inside the escape, DEL, a byte outside ASCII) cuts it short. */
  private afterEsc(b: number): void {
    const kind = kindOf(b, false);
    if (kind !== undefined) return this.introduce(kind, b);
    if (isIntermediate(b)) {
      this.seq.push(b);
      this.state = 'nf';
      return;
    }
    if (isEscFinal(b)) return this.completeEsc(b);
    this.abort(b);
  }

  /** After ESC and intermediates: held until the final byte, so that what a dropped sequence parts cannot become the final of this one. */
  private afterIntermediate(b: number): void {
    if (isIntermediate(b) && this.seq.length < MAX_DECIDING) return void this.seq.push(b);
    if (isEscFinal(b)) return this.completeEsc(b);
    this.abort(b);
  }

  /** The byte after the UTF-8 C1 lead byte: an introducer, or a character (U+0080..U+00BF) that passes. */
  private afterC2(b: number): void {
    const kind = kindOf(b, true);
    if (kind !== undefined) return this.introduce(kind, b);
    if (!continuesLead(b)) return this.abort(b);
    this.state = 'ground';
    this.complete(b);
  }

  private introduce(kind: Kind, b: number): void {
    this.seq.push(b);
    this.body = '';
    if (kind === 'csi') this.state = 'csi';
    else this.enterString(kind === 'osc' ? 'osc' : kind === 'dcs' ? 'dcs' : 'drop');
  }

  /** An ESC sequence's final byte (after ESC and its intermediates in `seq`): passed whole, or dropped whole (dropEsc). */
  private completeEsc(b: number): void {
    if (!dropEsc(String.fromCharCode(...this.seq.slice(1)), String.fromCharCode(b))) return this.complete(b);
    this.seq = [];
    this.state = 'ground';
  }

  /** The held sequence ends with `b`, complete, and passes. */
  private complete(b: number): void {
    this.seq.push(b);
    this.flush(this.seq);
    this.state = 'ground';
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
    if (isFinal(b)) {
      if (!dropCsi(splitCsi(this.body, String.fromCharCode(b)))) this.flush(this.seq);
      this.seq = [];
      this.state = 'ground';
      return;
    }
    this.body += String.fromCharCode(b);
    if (this.seq.length > MAX_DECIDING) this.abort(undefined);
  }

  /** An unfinished sequence cut short: dropped whole; `b` (ESC, CAN, SUB, ...) read afresh. */
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
    if (b === CAN || b === SUB) {
      // A terminal drops the string and acts on CAN or SUB.
      this.cutString();
      return this.ground(b);
    }
    if (b === BEL && this.osc) return this.finishString([BEL]);
    this.stringByte(b);
  }

  private afterStringEsc(b: number): void {
    this.strEsc = false;
    if (b === 0x5c) return this.finishString(ST);
    // ESC ends the string and begins the next sequence.
    this.cutString();
    this.ground(ESC);
    this.step(b);
  }

  private afterStringC2(b: number): void {
    this.strC2 = false;
    if (b === 0x9c) return this.finishString([C2, 0x9c]);
    if (kindOf(b, true) !== undefined) {
      this.cutString();
      this.ground(C2);
      this.step(b);
      return;
    }
    if (!continuesLead(b)) return this.string(b);
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
        if (this.hold(b)) this.body += String.fromCharCode(b);
        return;
    }
  }

  /** Keep `b` of an undecided string; false when that makes it too long to decide, and it is dropped. */
  private hold(b: number): boolean {
    this.seq.push(b);
    if (this.seq.length <= MAX_DECIDING) return true;
    this.decide('drop');
    return false;
  }

  /** The OSC number ends at the first byte that is neither a digit nor one a terminal ignores there. */
  private oscNumberByte(b: number): void {
    if (!this.hold(b) || ignoredInSequence(b)) return;
    if (b >= 0x30 && b <= 0x39) {
      this.body += String.fromCharCode(b);
      return;
    }
    this.decide(oscByNumber(this.body));
  }

  private dcsHeaderByte(b: number): void {
    if (!this.hold(b)) return;
    this.body += String.fromCharCode(b);
    // The header ends with its final byte; tmux's "tmux;" is read far enough to be told; one too long to be told is dropped.
    if (isFinal(b)) this.decide(dropDcs(this.body) ? 'drop' : 'pass');
    else if (this.body.length >= MAX_DCS_HEADER) this.decide('drop');
  }

  /** The string's fate, now that enough of it is read: what was held goes out (pass) or away (drop), or is kept (whole). */
  private decide(mode: Mode): void {
    this.mode = mode;
    if (mode === 'pass') this.flush(this.seq);
    if (mode === 'drop') this.seq = [];
    if (mode === 'whole') this.body = '';
  }

  /** The string ended with its own terminator: one passing gets it; one held passes whole with it, if allowed. */
  private finishString(terminator: readonly number[]): void {
    if (this.mode === 'pass') this.flush(terminator);
    else if (this.passesWhole()) this.flush([...this.seq, ...terminator]);
    this.seq = [];
    this.state = 'ground';
  }

  /** The string cut short (by ESC, a C1 introducer, CAN, SUB, the end): one held is dropped whole, one passing is closed with ST. */
  private cutString(): void {
    if (this.mode === 'pass') this.flush(ST);
    this.seq = [];
    this.state = 'ground';
  }

  /** A held string, complete: an OSC ended right after its number unless that number is dropped; a colour or font OSC unless it queries. */
  private passesWhole(): boolean {
    if (this.mode === 'osc') return oscByNumber(this.body) !== 'drop';
    return this.mode === 'whole' && !dropWholeOsc(this.body);
  }
}

/**
 * A whole text through the filter, as the relay would pass it to a terminal: what `isolate mcp` returns of a command's
 * output, which an assistant may show in the user's terminal. A sequence still undecided at the end is dropped; a
 * string still passing is closed.
 */
/**
 * Once `from` has closed (ended, or cut off: destroyed without an end), write through `write` what closes a string
 * the command left open, so that what the terminal shows after the run is not read into it.
 */
export function closeWhenDone(from: Readable, filter: TerminalFilter | undefined, write: (data: Buffer) => void): void {
  if (filter === undefined) return;
  from.once('close', () => {
    const rest = filter.end();
    if (rest.length > 0) write(rest);
  });
}

export function filteredText(text: string): string {
  const filter = new TerminalFilter();
  return Buffer.concat([filter.push(Buffer.from(text, 'utf8')), filter.end()]).toString('utf8');
}
