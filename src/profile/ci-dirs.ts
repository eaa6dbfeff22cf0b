/**
 * Where a CI runner keeps the job's secrets on disk beside the checkout,
 * told by the variables it gives the job: hidden from every run, as
 * isolate's own directories are (resolve.ts), because a profile that shows
 * the home (`dev`, on a hosted runner) or /opt (every built-in profile, on
 * a self-hosted runner installed there) would show them.
 *
 * - GitHub Actions: `$RUNNER_TEMP` holds each step's script with its
 *   `${{ secrets.X }}` expanded, the files behind GITHUB_ENV, GITHUB_PATH
 *   and GITHUB_OUTPUT (what earlier steps exported; what later steps, run
 *   outside the sandbox, read back), the event, and the credentials that
 *   setup and checkout actions write; at the root of a runner whose work
 *   directory is its `_work`, `.credentials` and `.credentials_rsaparams`
 *   (the key with which the runner asks for jobs).
 * - GitLab: `<project dir>.tmp/`, its file-type variables and the job's CA.
 * - Jenkins: `<workspace>@tmp/` (`$WORKSPACE_TMP`), its credentials bindings
 *   and the step scripts; `$JENKINS_HOME/secrets` and `credentials.xml`.
 *
 * A job that starts isolate with its variables cleared (`env -i`, `sudo`
 * without -E) is told by where its checkout is instead (ciLayoutPaths).
 *
 * Pure: the paths from the variables or the working directory; whether
 * each exists is the caller's.
 */
import { posix } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** The files at the root of a GitHub runner (beside `_work`) that hold the key it asks for jobs with. */
const RUNNER_KEYS: readonly string[] = ['.credentials', '.credentials_rsaparams'];
/** What a Jenkins home (above `workspace/`) keeps that decrypts every stored credential. */
const JENKINS_KEYS: readonly string[] = ['secrets', 'credentials.xml'];

/** A CI job's path: the variable's value when it is absolute, normalized, and at least two names deep (never /tmp or /home whole). */
function absolute(value: string | undefined): string | undefined {
  if (value === undefined || !value.startsWith('/')) return undefined;
  const path = posix.normalize(value).replace(/(?<=.)\/+$/, '');
  return path.split('/').length >= 3 ? path : undefined;
}

/** GitHub Actions: the job's temporary directory, and the runner's own credentials when its work directory is `<root>/_work`. */
function githubActions(env: Env): { path: string; from: string }[] {
  const temp = absolute(env['RUNNER_TEMP']);
  if (temp === undefined) return [];
  const work = posix.dirname(temp);
  const root = posix.basename(work) === '_work' ? posix.dirname(work) : undefined;
  const keys = root === undefined || absolute(root) === undefined ? [] : RUNNER_KEYS.map((name) => ({ path: posix.join(root, name), from: "the CI runner's credentials" }));
  return [{ path: temp, from: "the CI job's temporary directory ($RUNNER_TEMP)" }, ...keys];
}

/** GitLab's runner: `<project dir>.tmp/`. */
function gitlab(env: Env): { path: string; from: string }[] {
  const project = env['GITLAB_CI'] === undefined ? undefined : absolute(env['CI_PROJECT_DIR']);
  return project === undefined ? [] : [{ path: `${project}.tmp`, from: "the CI job's file variables ($CI_PROJECT_DIR.tmp)" }];
}

/**
 * Jenkins: `$WORKSPACE_TMP`, and `<workspace>@tmp` where the version sets no WORKSPACE_TMP; on the built-in node
 * (JENKINS_HOME is the jenkins user's home, which dev shows) the keys that decrypt every stored credential.
 */
function jenkins(env: Env): { path: string; from: string }[] {
  const home = absolute(env['JENKINS_HOME']);
  const workspace = env['JENKINS_URL'] === undefined && home === undefined ? undefined : absolute(env['WORKSPACE']);
  const dirs = [absolute(env['WORKSPACE_TMP']), workspace === undefined ? undefined : `${workspace}@tmp`];
  const bindings = [...new Set(dirs.filter((d): d is string => d !== undefined))].map((path) => ({ path, from: "the CI job's credentials bindings ($WORKSPACE_TMP)" }));
  const keys = home === undefined ? [] : JENKINS_KEYS.map((name) => ({ path: posix.join(home, name), from: "Jenkins' stored credentials ($JENKINS_HOME)" }));
  return [...bindings, ...keys];
}

/** The paths a CI runner keeps the job's secrets in, told by `env`, with where each comes from. */
export function ciSecretPaths(env: Env): { path: string; from: string }[] {
  return [...githubActions(env), ...gitlab(env), ...jenkins(env)];
}

/** `/a/b/c` -> `/a/b/c`, `/a/b`, `/a` (never /). */
function selfAndAncestors(path: string): string[] {
  const out: string[] = [];
  for (let dir = path; dir !== '/'; dir = posix.dirname(dir)) out.push(dir);
  return out;
}

/** GitHub Actions by its layout: a work directory named `work` (hosted) or `_work` (self-hosted) keeps `_temp`; `_work`'s parent, the runner's keys. */
function githubLayout(dir: string): { path: string; from: string }[] {
  const name = posix.basename(dir);
  if (name !== 'work' && name !== '_work') return [];
  const temp = [{ path: posix.join(dir, '_temp'), from: "a CI runner's temporary directory (beside the checkout)" }];
  const root = posix.dirname(dir);
  return name === 'work' || root === '/' ? temp : [...temp, ...RUNNER_KEYS.map((n) => ({ path: posix.join(root, n), from: "a CI runner's credentials (beside the checkout)" }))];
}

/** Jenkins by its layout: `<dir>@tmp` beside each directory; under `<home>/workspace/`, the home's keys to its stored credentials. */
function jenkinsLayout(dir: string): { path: string; from: string }[] {
  const bindings = [{ path: `${dir}@tmp`, from: "a CI job's credentials bindings (beside the checkout)" }];
  if (posix.basename(dir) !== 'workspace' || posix.dirname(dir) === '/') return bindings;
  return [...bindings, ...JENKINS_KEYS.map((n) => ({ path: posix.join(posix.dirname(dir), n), from: "Jenkins' stored credentials (beside the workspace)" }))];
}

/**
 * The paths a CI runner would keep the job's secrets in, told by the run's working directory `cwd` (absolute) and
 * where isolate was started (`startedIn`, when a profile's process.cwd takes the run elsewhere) alone: for each and
 * each directory above it, GitHub's `<work>/_temp` (and a self-hosted runner's keys), GitLab's `<dir>.tmp` and
 * Jenkins' `<dir>@tmp` beside it. Never the working directory, what is inside it, or a directory above either;
 * only those that exist are hidden.
 */
export function ciLayoutPaths(cwd: string, startedIn: string = cwd): { path: string; from: string }[] {
  const work = posix.normalize(cwd);
  const ways = new Set([work, posix.normalize(startedIn)].flatMap(selfAndAncestors));
  const found = [...ways].filter((d) => absolute(d) !== undefined).flatMap((d) => [...githubLayout(d), { path: `${d}.tmp`, from: "a CI job's file variables (beside the checkout)" }, ...jenkinsLayout(d)]);
  return found.filter((f) => !ways.has(f.path) && !f.path.startsWith(`${work}/`));
}
