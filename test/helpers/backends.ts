/**
 * The Linux backends a sandbox test runs against here: bubblewrap always,
 * nsjail when it is installed (or named by ISOLATE_NSJAIL), an OCI runtime
 * (--backend oci) when one works here, each for every runner (the current
 * user and, as root, an unprivileged one).
 */
import { findNsjail } from '../../src/host/facts.js';
import { ociRuntimes } from '../../src/host/oci-runtime.js';
import { runners, type Runner } from './isolate.js';

export interface BackendCase {
  label: string;
  runner: Runner;
  backend: 'bwrap' | 'nsjail' | 'oci';
  /** The environment that selects this backend's binary. */
  backendEnv: Record<string, string>;
}

/**
 * The backends ISOLATE_TEST_BACKENDS names (a comma-separated list; unset:
 * all), with ISOLATE_TEST_BACKENDS_WHY saying why the others are left out.
 * CI's second pass, as an ordinary user, repeats bubblewrap and nsjail only:
 * its first pass ran the oci cases both as root and as an ordinary user.
 */
function chosen(what: string, backend: BackendCase['backend']): boolean {
  const list = process.env['ISOLATE_TEST_BACKENDS'];
  if (list === undefined || list.split(',').includes(backend)) return true;
  console.warn(`${what} under ${backend} skipped: ISOLATE_TEST_BACKENDS=${list} (${process.env['ISOLATE_TEST_BACKENDS_WHY'] ?? 'no reason given'})`);
  return false;
}

/** The nsjail binary the tests use, or undefined (said why). */
function nsjailHere(what: string): string | undefined {
  if (!chosen(what, 'nsjail')) return undefined;
  const nsjail = findNsjail(process.env);
  if (nsjail === undefined) console.warn(`${what} under nsjail skipped: no nsjail binary on PATH or in ISOLATE_NSJAIL (see docs/backends.md, "Installing nsjail")`);
  return nsjail;
}

/** Whether --backend oci is tested here (said why not). */
function ociHere(what: string): boolean {
  if (!chosen(what, 'oci')) return false;
  const oci = process.platform === 'linux' && ociRuntimes().some((r) => r.refused === undefined);
  if (!oci) console.warn(`${what} under --backend oci skipped: no OCI runtime that works here (apt-get install runc)`);
  return oci;
}

/** Every (runner, backend) pair; prints once why nsjail or oci is left out when it is. */
export function backendCases(what: string): BackendCase[] {
  const nsjail = nsjailHere(what);
  const oci = ociHere(what);
  return [
    ...runners().map((runner) => ({ label: runner.label, runner, backend: 'bwrap' as const, backendEnv: {} })),
    ...(nsjail === undefined ? [] : runners().map((runner) => ({ label: `${runner.label}, nsjail`, runner, backend: 'nsjail' as const, backendEnv: { ISOLATE_NSJAIL: nsjail } }))),
    ...(oci ? runners().map((runner) => ({ label: `${runner.label}, oci`, runner, backend: 'oci' as const, backendEnv: {} })) : []),
  ];
}

/**
 * backendCases of the user running the tests only: for a test that plans and runs in its own process, as its own
 * user. The others print why they are skipped; CI's unprivileged pass runs such a file as that user.
 */
export function ownUserCases(what: string): BackendCase[] {
  return backendCases(what).filter(({ runner, label }) => {
    if (runner.uid === process.getuid?.()) return true;
    console.warn(`${what} (${label}) skipped here: the run is planned and executed in the test's own process, as its own user; CI's unprivileged pass runs this file as that user`);
    return false;
  });
}
