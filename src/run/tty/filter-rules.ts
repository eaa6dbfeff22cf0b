/**
 * Which escape sequences the relay drops on their way to the user's
 * terminal (pure; the list is docs/terminal.md's): those that write outside
 * the screen (the clipboard, a file download or transfer), those that make
 * the terminal answer, which it does by typing into its input, where the
 * user's shell reads it once the command has exited (a title or setting
 * report types text the command chose), those that program a key to type
 * text (DECUDK), and the switch out of UTF-8 (ESC %), after which the 8-bit
 * controls passed as text would act. Everything else passes;
 * `--raw-terminal` passes all.
 */

/** CSI: the bytes between the introducer and the final byte, split as a terminal reads them. */
export interface CsiParts {
  /** '<', '=', '>' or '?' before the parameters, or ''. */
  prefix: string;
  params: string;
  /** Intermediate bytes (0x20-0x2f) after the parameters. */
  intermediates: string;
  final: string;
}

/**
 * A control (C0) or DEL inside a sequence: a terminal executes or ignores it there and reads the sequence on around
 * it (`ESC ] 5 LF 2 ;` is an OSC 52 to it), so the rules read a sequence without them.
 */
export function ignoredInSequence(byte: number): boolean {
  return byte < 0x20 || byte === 0x7f;
}

function withoutIgnored(text: string): string {
  return [...text].filter((c) => !ignoredInSequence(c.charCodeAt(0))).join('');
}

export function splitCsi(raw: string, final: string): CsiParts {
  const body = withoutIgnored(raw);
  const m = /^([<=>?]?)([0-9:;<=>?]*)([\x20-\x2f]*)$/.exec(body);
  return m === null ? { prefix: '', params: body, intermediates: '', final } : { prefix: m[1] ?? '', params: m[2] ?? '', intermediates: m[3] ?? '', final };
}

/** Window operations that only set state the screen shows (push and pop the title): the rest of CSI t moves, resizes or reports. */
const WINDOW_OPS_KEPT = new Set(['22', '23']);

/**
 * Reports: device attributes (CSI c, > c, = c), status and cursor position
 * (CSI n, ? n), terminal parameters (CSI x), mode requests (CSI $ p),
 * the version (CSI > q), keyboard and graphics queries (CSI ? u, ? S, ? m),
 * presentation and tab-stop state (CSI $ w, $ u), a checksum of an area of
 * the screen (CSI * y, DECRQCRA: what the screen shows, read back);
 * window operations and reports (CSI t) but pushing and popping the title.
 */
export function dropCsi(p: CsiParts): boolean {
  switch (p.final) {
    case 'c':
    case 'n':
      return true;
    case 'x':
      return p.prefix === '';
    case 'p':
      return p.intermediates.includes('$');
    case 'q':
      return p.prefix === '>';
    case 'u':
      return p.prefix === '?' || p.intermediates.includes('$');
    case 'S':
    case 'm':
      return p.prefix === '?';
    case 'w':
      return p.intermediates.includes('$');
    case 'y':
      return p.intermediates.includes('*');
    case 't':
      return p.prefix === '' && !WINDOW_OPS_KEPT.has(p.params.split(';')[0] ?? '');
    default:
      return false;
  }
}

export type OscDecision = 'drop' | 'pass' | 'whole';

/** OSC numbers whose `?` form is a query the terminal answers: colours and fonts, kitty's colours (21), pointer shape (22), text size (66) and notifications (99). */
const QUERYABLE_OSC = new Set(['4', '5', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '21', '22', '50', '66', '99']);

/** How many digits of an OSC number (after its leading zeros) a terminal is trusted to read as the filter does; a longer one is dropped. */
const MAX_OSC_DIGITS = 8;

/**
 * OSC numbers dropped whole: the clipboard (52), iTerm2's own (1337: Copy= writes the clipboard, File= downloads a
 * file, the Report ones answer), kitty's clipboard (5522) and file transfer (5113), xterm's queries of its allowed
 * and disallowed features (60, 61).
 */
const DROPPED_OSC = new Set(['52', '1337', '5522', '5113', '60', '61']);

/**
 * OSC by its number, read as a terminal reads it (052 is 52): DROPPED_OSC are dropped; colours and fonts are read
 * whole (see dropWholeOsc); the rest passes.
 */
export function oscByNumber(digits: string): OscDecision {
  const num = digits.replace(/^0+(?=\d)/, '');
  if (DROPPED_OSC.has(num) || num.length > MAX_OSC_DIGITS) return 'drop';
  return QUERYABLE_OSC.has(num) ? 'whole' : 'pass';
}

/** A queryable OSC read whole: dropped when any of its fields (`;` or `:` apart) is a query: `?`, `?name`, `key=?`. */
export function dropWholeOsc(payload: string): boolean {
  return withoutIgnored(payload)
    .split(/[;:]/)
    .some((field) => field.startsWith('?') || field.endsWith('=?'));
}

/**
 * ESC sequences dropped: DECID (ESC Z), which the terminal answers as it does CSI c, and the character-set switches
 * (ESC %): ESC % @ takes a terminal out of UTF-8, where the 8-bit controls the filter passes as text would act.
 */
export function dropEsc(intermediates: string, final: string): boolean {
  return (intermediates === '' && final === 'Z') || intermediates.startsWith('%');
}

/**
 * DCS by its header: setting and capability requests (DCS $ q, + q), tmux's passthrough (DCS tmux;), which reaches
 * the terminal outside tmux unfiltered, and user-defined keys (DECUDK, DCS ... |), which program a key to type text
 * the command chose.
 */
export function dropDcs(header: string): boolean {
  return /^[0-9:;<=>?]*(\$q|\+q|t|\|)/.test(withoutIgnored(header));
}

/** How many bytes of a DCS header are read for its final byte; a longer one is dropped, as it may end in a request. */
export const MAX_DCS_HEADER = 16;

/** How many bytes of a sequence are read before it is decided; a longer one is dropped. */
export const MAX_DECIDING = 4096;
