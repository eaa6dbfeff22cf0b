/**
 * When the tests run as root, the integration tests also run every sandbox as
 * an unprivileged user: create that user and a copy of the built package it
 * can read (the checkout may live under /root, which it cannot enter).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

export const TEST_USER = 'isolate-test';
const root = fileURLToPath(new URL('../..', import.meta.url));

function ensureUser(): { uid: number; gid: number } {
  try {
    execFileSync('id', ['-u', TEST_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', TEST_USER]);
  }
  const uid = Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', TEST_USER], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** The packages the built package loads at run time: its dependencies and theirs, as installed in node_modules. */
function runtimePackages(): string[] {
  const found = new Set<string>();
  const visit = (packageJson: string): void => {
    if (!existsSync(packageJson)) return; // installed inside its dependent's own node_modules, copied with it
    const deps = (JSON.parse(readFileSync(packageJson, 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {};
    for (const name of Object.keys(deps)) {
      if (found.has(name)) continue;
      found.add(name);
      visit(join(root, 'node_modules', name, 'package.json'));
    }
  };
  visit(join(root, 'package.json'));
  return [...found].map((name) => `node_modules/${name}`).filter((dir) => existsSync(join(root, dir)));
}

/**
 * Copy each of `parts` (paths relative to the checkout) to the same place under `to`, one cp(1) per folder they are
 * in: fs.cpSync took three seconds for the packages' thousands of files (kubernetes-models alone has 4,500).
 */
function copyParts(parts: readonly string[], to: string): void {
  const byFolder = new Map<string, string[]>();
  for (const part of parts) byFolder.set(dirname(part), [...(byFolder.get(dirname(part)) ?? []), join(root, part)]);
  for (const [folder, sources] of byFolder) {
    mkdirSync(join(to, folder), { recursive: true });
    execFileSync('cp', ['-R', '--', ...sources, join(to, folder)]);
  }
}

/** rm(1) rather than fs.rmSync: the copy's thousands of files go in a fraction of the time. */
function removeCopy(copy: string): void {
  execFileSync('rm', ['-rf', '--', copy]);
}

export default function setup(project: TestProject): () => void {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` before the tests (npm test does)');
  }
  // Every run records itself in an audit log; keep the tests' logs in a temp directory of their own.
  const stateRoot = mkdtempSync(join(tmpdir(), 'isolate-state-'));
  chmodSync(stateRoot, 0o755);
  const selfState = join(stateRoot, 'self');
  mkdirSync(selfState);
  if (process.getuid?.() !== 0) {
    project.provide('unprivileged', null);
    project.provide('stateDirs', { self: selfState, unprivileged: null });
    return () => rmSync(stateRoot, { recursive: true, force: true });
  }
  const { uid, gid } = ensureUser();
  const unprivState = join(stateRoot, 'unprivileged');
  mkdirSync(unprivState);
  chownSync(unprivState, uid, gid);
  project.provide('stateDirs', { self: selfState, unprivileged: unprivState });
  const copy = mkdtempSync(join(tmpdir(), 'isolate-pkg-'));
  try {
    chmodSync(copy, 0o755);
    copyParts(['bin', 'dist', 'profiles', 'package.json', ...runtimePackages()], copy);
    execFileSync('chmod', ['-R', 'a+rX', copy]);
  } catch (e: unknown) {
    // Nothing left behind when the copy fails (e.g. dist/ being rebuilt meanwhile).
    removeCopy(copy);
    rmSync(stateRoot, { recursive: true, force: true });
    throw e;
  }
  project.provide('unprivileged', { user: TEST_USER, uid, gid, packageDir: copy });
  return () => {
    removeCopy(copy);
    rmSync(stateRoot, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    unprivileged: { user: string; uid: number; gid: number; packageDir: string } | null;
    /** XDG_STATE_HOME for each runner, so audit logs land in a temp directory. */
    stateDirs: { self: string; unprivileged: string | null };
  }
}
