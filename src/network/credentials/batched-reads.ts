/**
 * The reads of a socket (its `onread` option) landing back to back in 1 MiB
 * buffers and handed on once per turn of the event loop, as one view of all
 * that arrived meanwhile: one hand-on (and, downstream, one write) for many
 * TLS records. A buffer is reused once every view of it has been released
 * and it has been filled; until then the reads go to another.
 */
import type { OnReadOpts } from 'node:net';

const SLAB = 1 << 20;
/** A TLS record's data is at most 16 KiB: a buffer with less room than this left is handed on and replaced. */
const MIN_ROOM = 32 * 1024;

interface Slab {
  buf: Buffer;
  /** Views handed on and not released yet. */
  pending: number;
  /** Filled: no more reads go into it. */
  retired: boolean;
}

export class BatchedReads {
  private readonly spare: Buffer[] = [];
  private slab: Slab = { buf: Buffer.allocUnsafeSlow(SLAB), pending: 0, retired: false };
  private start = 0;
  private end = 0;
  private scheduled = false;

  /** `hand` gets each batch, and calls `release` once it no longer needs the bytes. */
  constructor(private readonly hand: (piece: Buffer, release: () => void) => void) {}

  readonly onread: OnReadOpts = {
    buffer: () => this.room(),
    callback: (n: number): boolean => {
      this.end += n;
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
      return true;
    },
  };

  /** Hand on what has arrived since the last batch. */
  flush(): void {
    this.scheduled = false;
    if (this.end === this.start) return;
    const s = this.slab;
    s.pending++;
    const piece = s.buf.subarray(this.start, this.end);
    this.start = this.end;
    this.hand(piece, () => {
      if (--s.pending === 0 && s.retired) this.spare.push(s.buf);
    });
  }

  /** Where the next read goes: after the last one, or in a fresh buffer when this one is nearly full. */
  private room(): Buffer {
    if (this.slab.buf.length - this.end < MIN_ROOM) {
      this.flush();
      this.slab.retired = true;
      if (this.slab.pending === 0) this.spare.push(this.slab.buf);
      this.slab = { buf: this.spare.pop() ?? Buffer.allocUnsafeSlow(SLAB), pending: 0, retired: false };
      this.start = this.end = 0;
    }
    return this.slab.buf.subarray(this.end);
  }
}
