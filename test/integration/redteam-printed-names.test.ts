/**
 * Red team: names that come with a repository, printed to the user's
 * terminal. A profile in the repository extends a file of the repository
 * whose name holds an escape sequence (a clipboard write, OSC 52) and a
 * newline followed by a line of isolate's own ("isolate: ..."); a directory
 * the profile makes readable is named the same way. `isolate run` warned
 * about that file's audit setting, and `isolate explain` listed the files
 * and paths, with the bytes as they are: the terminal obeyed the sequence
 * and showed the forged line as isolate's.
 *
 * A profile may no longer name such a file or path at all (its values must
 * show as written, profile/unseen.ts): that refusal is printed escaped too,
 * and the file given with -p is still named in the warning and in explain.
 *
 * Written as a failing finding first; it now guards the escaping.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, projectSite, runners, type Result } from '../helpers/isolate.js';

/** A clipboard write, then a newline and a carriage return that start a line of isolate's own. */
const HOSTILE = '\u001b]52;c;ZXZpbA==\u0007\nisolate: forged\r';

/** Every control character but the line breaks isolate prints itself, and every line that starts as the forged one. */
function forged(text: string): { controls: string[]; lines: string[] } {
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  const controls = [...text.matchAll(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g)].map((m) => JSON.stringify(m[0]));
  return { controls, lines: text.split('\n').filter((l) => l.startsWith('isolate: forged')) };
}

describe.each(runners())('red team: names from a repository printed to the terminal ($label)', (runner) => {
  let dir: string;
  let project: string;
  let env: Record<string, string>;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-rtn-'));
    writeFileSync(join(project, `${HOSTILE}.yaml`), 'extends: default\naudit: {enabled: false}\n');
    writeFileSync(join(project, 'isolate.yaml'), `extends: ${JSON.stringify(`./${HOSTILE}.yaml`)}\nfilesystem: {read: [${JSON.stringify(`\${CWD}/${HOSTILE}dir`)}]}\n`);
    mkdirSync(join(project, `${HOSTILE}dir`));
    giveTo(runner, dir);
  });
  afterEach(() => cleanup());

  const expectClean = (r: Result, what: string): void => {
    expect(r.status, r.stderr).toBe(0);
    expect(forged(r.stdout), `${what}: stdout`).toEqual({ controls: [], lines: [] });
    expect(forged(r.stderr), `${what}: stderr`).toEqual({ controls: [], lines: [] });
  };

  it('isolate run warns about the file that turns the audit log off with its name escaped', () => {
    const r = isolate(runner, ['run', '-p', `./${HOSTILE}.yaml`, '--', 'true'], { cwd: project, env });
    expect(r.stderr).toContain('sets audit.enabled: false');
    expectClean(r, 'run');
  });

  it('a profile that names such a file or path is refused, and the refusal prints the name escaped', () => {
    const r = isolate(runner, ['run', '-p', './isolate.yaml', '--', 'true'], { cwd: project, env });
    expect(r.status, r.stderr).toBe(125);
    expect(forged(r.stdout), 'refusal: stdout').toEqual({ controls: [], lines: [] });
    expect(forged(r.stderr), 'refusal: stderr').toEqual({ controls: [], lines: [] });
  });

  it('isolate check prints a script\'s command and the words it decided on escaped', () => {
    writeFileSync(join(project, 'deny.yaml'), 'extends: default\ncommands: {deny: ["curl *"]}\n');
    giveTo(runner, dir);
    const r = isolate(runner, ['check', '-p', './deny.yaml', '--', 'sh', '-c', `curl x${HOSTILE}`], { cwd: project, env });
    expect(r.status, r.stderr).toBe(126);
    expect(r.stdout).toContain('refused');
    expect(forged(r.stdout), 'check: stdout').toEqual({ controls: [], lines: [] });
  });

  it('isolate explain prints the profile files with their names escaped', () => {
    const r = isolate(runner, ['explain', '-p', `./${HOSTILE}.yaml`, '--', 'true'], { cwd: project, env });
    expect(r.stdout).toContain('\\u001b]52;c;ZXZpbA==');
    expectClean(r, 'explain');
  });
});
