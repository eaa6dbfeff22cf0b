/**
 * Shapes of profiles at each stage of the flow:
 * ProfileDoc (one file, validated) -> MergedProfile (after extends and CLI
 * overrides) -> Policy (variables expanded, paths absolute and real).
 * These are plain types; the zod schema in schema.ts is checked against them
 * at compile time, so loading a built-in profile never needs zod at run time.
 */

export type PathEntry = string | { path: string; optional?: boolean | undefined };

export type NetworkMode = 'none' | 'host' | 'filtered';

export interface FilesystemDoc {
  read?: PathEntry[] | undefined;
  write?: PathEntry[] | undefined;
  deny?: string[] | undefined;
  tmpfs?: string[] | undefined;
  protect?: string[] | undefined;
}

export interface EnvironmentDoc {
  pass?: string[] | undefined;
  set?: Record<string, string> | undefined;
  secrets?: string[] | undefined;
}

export type { LimitsDoc, Limits } from './limits.js';
import type { LimitsDoc, Limits } from './limits.js';
import type { CredentialKind, CredentialSpec } from '../network/credentials/spec.js';

/** Where isolate reads a credential's real value: the caller's variable, a file, or a command's output. */
export type CredentialFromDoc = { env: string } | { file: string } | { command: string[] };

export interface CredentialDoc {
  name: string;
  kind?: CredentialKind | undefined;
  from: CredentialFromDoc;
  hosts: string[];
  ttl?: string | number | undefined;
}

/** A credential after merging, with where it was defined (`/p/web.yaml: credentials[0]`, `--credential`). */
export interface MergedCredential extends CredentialDoc {
  origin: string;
}

export interface ProfileDoc {
  $schema?: string | undefined;
  extends?: string | undefined;
  description?: string | undefined;
  filesystem?: FilesystemDoc | undefined;
  network?: { mode?: NetworkMode | undefined; allow?: string[] | undefined; deny?: string[] | undefined; upstreamCa?: string | undefined } | undefined;
  environment?: EnvironmentDoc | undefined;
  process?: { cwd?: string | undefined; hostname?: string | undefined } | undefined;
  limits?: LimitsDoc | undefined;
  syscalls?: SyscallsDoc | undefined;
  commands?: { allow?: string[] | undefined; deny?: string[] | undefined } | undefined;
  audit?: { enabled?: boolean | undefined; log?: string | undefined; required?: boolean | undefined } | undefined;
  credentials?: CredentialDoc[] | undefined;
}

export interface SyscallsDoc {
  preset?: 'default' | 'none' | undefined;
  deny?: string[] | undefined;
  allow?: string[] | undefined;
}

/** The seccomp filter: a preset, plus names denied, minus names allowed. */
export interface SyscallPolicy {
  preset: 'default' | 'none';
  deny: string[];
  allow: string[];
}

/** A path from a profile or a flag, with where it came from (for error messages). */
export interface SourcedPath {
  path: string;
  optional: boolean;
  /** e.g. `profiles/default.yaml: filesystem.write[0]` or `--allow-write`. */
  from: string;
}

/** Where a scalar a later check may refuse was set: `/p/web.yaml: process.cwd`, `builtin:default: process.cwd` or `--cwd`. */
export type Origins = Partial<Record<'process.cwd' | 'audit.enabled' | 'audit.log' | 'network.mode', string>>;

/** A profile after `extends` and CLI overrides, before any path is resolved. */
export interface MergedProfile {
  name: string;
  /** The files (or built-in names) that were merged, base first. */
  sources: string[];
  /**
   * The symbolic links the profile files were reached through, where each
   * lies (profile/links.ts): one inside a writable path could be pointed at
   * another profile for the next run.
   */
  links?: string[];
  description: string;
  filesystem: {
    read: SourcedPath[];
    write: SourcedPath[];
    deny: SourcedPath[];
    tmpfs: SourcedPath[];
    protect: string[];
  };
  network: NetworkPolicy;
  environment: { pass: string[]; set: Record<string, string>; secrets: string[] };
  process: { cwd: string; hostname: string };
  /** Raw limit values; later entries override earlier ones. Parsed in resolve. */
  limits: LimitsDoc;
  syscalls: SyscallPolicy;
  commands: { allow: string[]; deny: string[] };
  audit: { enabled: boolean; log: string | undefined; required: boolean };
  /** Credentials the command gets placeholders for; a later definition of a name replaces an earlier one. */
  credentials?: MergedCredential[];
  /** For messages: which file (and key) or flag set these values. */
  origins: Origins;
  /** Which file (`/p/ci.yaml: environment.pass`) or flag (`--env`) first passed each variable named exactly. */
  passOrigins?: Record<string, string>;
}

/** Network access. allow/deny are domain patterns (see network/rules.ts), used in filtered mode. */
export interface NetworkPolicy {
  mode: NetworkMode;
  allow: string[];
  deny: string[];
  /** A PEM file of certificates the proxy also trusts for the credential hosts it terminates TLS for (absolute once resolved). */
  upstreamCa?: string;
}

export type MountKind = 'tmpfs' | 'read' | 'write' | 'deny';

export interface MountRule {
  kind: MountKind;
  /** Absolute path with every symlink resolved (for tmpfs: the resolved parent + name). */
  path: string;
  /** The path as the profile or flag wrote it, for messages. */
  requested: string;
  /** For read/write/deny: what the path is on the host. */
  type: 'dir' | 'file' | 'other' | 'missing';
  /** Set when `requested` expanded to a different absolute path than `path` (a symlink). */
  linkFrom?: string;
}

export interface Policy {
  profile: { name: string; sources: string[]; description: string };
  filesystem: {
    mounts: MountRule[];
    /** Names relative to each writable root that stay read-only (e.g. `.git/hooks`), blocked where missing. */
    protect: string[];
    /** Names kept read-only where they exist, not blocked where missing (own-paths.ts protectedNames). */
    protectExisting?: string[];
    /** Absolute paths that stay read-only wherever a writable root holds them: isolate's own directories, protected names under the XDG directories (own-paths.ts). */
    protectPaths?: string[];
    /** Why some of protectPaths are protected, for explain: the directories the host runs programs from (path-dirs.ts). */
    protectWhy?: { path: string; why: string }[];
    /** Requested paths that were left out, and why (optional and missing, nothing to hide). */
    skipped: { path: string; reason: string }[];
  };
  network: NetworkPolicy;
  environment: { pass: string[]; set: Record<string, string>; secrets: string[] };
  /**
   * `profileCwd`: the working directory the profile resolved to, when a run moved its command elsewhere (narrow.ts);
   * the searches for what the sandbox must not see as it is on disk (tokens in read-only repositories) start there too.
   */
  process: { cwd: string; hostname: string; profileCwd?: string };
  limits: Limits;
  syscalls: SyscallPolicy;
  /** Command policy rules (see policy/commands.ts). */
  commands: { allow: string[]; deny: string[] };
  /** The audit log: on by default, at an absolute path once resolved (undefined: the default location). */
  audit: { enabled: boolean; log: string | undefined; required: boolean };
  /** Credentials (filtered network only): the command sees placeholders, the proxy adds the values for their hosts. */
  credentials?: CredentialSpec[];
}
