/**
 * `isolate export`: the policy rendered for another runner, as data the CLI
 * writes. One renderer per format (EXPORT_FORMATS in types.ts), each pure:
 * (policy, command, host facts) -> the entries of an output directory.
 * A format is loaded only when it is asked for.
 */
import type { Policy } from '../profile/types.js';
import type { ExportFormat, HostFacts } from './types.js';

/** One entry of the output directory, at a relative path without `..`. */
export type ExportEntry =
  | { kind: 'dir'; path: string }
  | { kind: 'file'; path: string; content: string }
  /** A symlink whose target is a path inside the sandbox (the writer never follows it). */
  | { kind: 'symlink'; path: string; target: string };

export interface Exported {
  format: ExportFormat;
  /** In the order they are to be created (a directory before what is in it). */
  entries: ExportEntry[];
  /** The entry printed on stdout when no output directory is given. */
  main: string;
  /** What the rendering enforces differently from `isolate run`, and what the operator must provide. */
  notes: string[];
}

export interface Exporter {
  format: ExportFormat;
  /** Host facts the renderer needs beyond a run's: the host's mount points. */
  needsMountPoints: boolean;
  render(policy: Policy, command: readonly string[], host: HostFacts): Exported;
}

export async function loadExporter(format: ExportFormat): Promise<Exporter> {
  switch (format) {
    case 'oci':
      return (await import('./oci-export.js')).ociExporter;
  }
}
