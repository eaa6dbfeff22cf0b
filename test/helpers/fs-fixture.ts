/**
 * What the filesystem checks share, for every backend: unique secret
 * tokens, a script that tries many writes in one run, the /dev a fresh
 * sandbox has, and a home full of secrets with links out of the project.
 */
import { randomBytes } from 'node:crypto';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { findNsjail } from '../../src/backends/host.js';
import { giveTo, homeWithProject, plant, runners, tempDirFor, type Project, type Runner } from './isolate.js';

export const token = (label: string): string => `${label}-${randomBytes(8).toString('hex')}`;

/** What bwrap's --dev provides; anything else from the host's /dev must not be there. */
export const FRESH_DEV = new Set(['null', 'zero', 'full', 'random', 'urandom', 'tty', 'console', 'pts', 'ptmx', 'shm', 'fd', 'stdin', 'stdout', 'stderr', 'core', 'mqueue']);

/**
 * A shell script that tries each `name: command` and prints `name=WROTE` or
 * `name=blocked` (by exit status) on stdout, so one sandbox run checks many
 * operations. What the commands print goes to stderr, which the tests check
 * for secrets.
 */
export function attempts(ops: Record<string, string>): string {
  return Object.entries(ops)
    .map(([name, cmd]) => `if (${cmd}) >&2; then echo "${name}=WROTE"; else echo "${name}=blocked"; fi`)
    .join('\n');
}

export interface Fixture extends Project {
  ssh: string;
  aws: string;
  notes: string;
  outside: string;
  outsideSecret: string;
  cleanupOutside: () => void;
}

/** A home with secret stores and a note, a project with links out of it, and a secret in an unrelated directory. */
export function fixture(runner: Runner): Fixture {
  const p = homeWithProject(runner);
  const ssh = token('SSH-PRIVATE-KEY');
  const aws = token('AWS-CREDENTIALS');
  const notes = token('PLAIN-NOTES');
  const outsideSecret = token('OUTSIDE-SECRET');
  plant(runner, p.home, '.ssh/id_rsa', ssh, 0o600);
  plant(runner, p.home, '.aws/credentials', aws, 0o600);
  plant(runner, p.home, 'notes.txt', notes);
  const { dir: outside, cleanup: cleanupOutside } = tempDirFor(runner);
  plant(runner, outside, 'secret.txt', outsideSecret);
  symlinkSync(join(p.home, '.ssh', 'id_rsa'), join(p.project, 'link-ssh'));
  symlinkSync(join(outside, 'secret.txt'), join(p.project, 'link-outside'));
  symlinkSync('../.ssh/id_rsa', join(p.project, 'link-relative'));
  giveTo(runner, p.home);
  return { ...p, ssh, aws, notes, outside, outsideSecret, cleanupOutside };
}


export interface BackendCase {
  label: string;
  runner: Runner;
  backend: 'bwrap' | 'nsjail';
  /** The environment that selects this backend's binary (ISOLATE_NSJAIL). */
  backendEnv: Record<string, string>;
}

/**
 * The Linux backends the filesystem checks run for: bubblewrap for every
 * runner, and nsjail too when it is installed or named by ISOLATE_NSJAIL
 * (otherwise it prints why `what` is skipped under nsjail).
 */
export function linuxBackendCases(what: string): BackendCase[] {
  const nsjail = findNsjail(process.env);
  if (nsjail === undefined) console.warn(`${what} under nsjail skipped: no nsjail binary on PATH or in ISOLATE_NSJAIL (see README, "Installing nsjail")`);
  return [
    ...runners().map((runner) => ({ label: runner.label, runner, backend: 'bwrap' as const, backendEnv: {} })),
    ...(nsjail === undefined ? [] : runners().map((runner) => ({ label: `${runner.label}, nsjail`, runner, backend: 'nsjail' as const, backendEnv: { ISOLATE_NSJAIL: nsjail } }))),
  ];
}

/** A project that is a git checkout, with a nested one: what protected-file checks plant (snapshot() form). */
export const REPO_FILES: Record<string, string> = {
  '.git': 'dir',
  '.git/hooks': 'dir',
  '.git/hooks/pre-commit': 'file:#!/bin/sh\necho original hook\n',
  '.git/config': 'file:[core]\n\tbare = false\n',
  '.git/HEAD': 'file:ref: refs/heads/main\n',
  sub: 'dir',
  'sub/deeper': 'dir',
  'sub/deeper/.git': 'dir',
  'sub/deeper/.git/hooks': 'dir',
  'sub/deeper/.git/hooks/pre-push': 'file:#!/bin/sh\necho nested hook\n',
  'sub/deeper/code.txt': 'file:code\n',
  'README.md': 'file:readme\n',
};
