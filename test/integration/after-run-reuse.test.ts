/**
 * The search after a run takes the listings the search before it made
 * (run/after-run-scan.ts) for directories whose change time shows they were
 * not touched since. Judged on the host, in a tree older than the settling
 * time, as a project between two commands: every protected name the command
 * creates is moved aside, however it hides the change (deep in an unchanged
 * tree, in a directory renamed into place, behind a directory whose mtime it
 * set back, through a hard link, under a directory it made unreadable, in a
 * directory it removed and made again).
 */
import { chownSync, existsSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolate } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { settledTrees } from '../helpers/settled-trees.js';

const cases = backendCases('the search after a run, from the listings before it');
const treeOf = settledTrees(cases, 1500);

interface Moved {
  path: string;
  movedTo: string | null;
}

describe.each(cases)('the search after a run, from the listings before it ($label)', ({ label, runner, backend, backendEnv }) => {
  const tree = () => treeOf(label);
  const run = (script: string): Moved[] => {
    const { base, project } = tree();
    const r = isolate(runner, ['run', '--json', '--backend', backend, '--', 'sh', '-c', script], { cwd: project, env: { HOME: base, ...backendEnv } });
    expect(r.status, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { quarantined?: Moved[] }).quarantined ?? [];
  };
  const at = (rel: string): string => join(tree().project, rel);
  /** The run moved `rel` aside: reported, and no longer where host programs look. */
  const movedAside = (moved: Moved[], rel: string): void => {
    expect(moved.map((q) => q.path)).toContain(at(rel));
    expect(moved.find((q) => q.path === at(rel))?.movedTo).toMatch(/\.isolate-quarantined-[0-9a-f]{8}$/);
    expect(existsSync(at(rel)), `${rel} is still there`).toBe(false);
  };

  it('moves nothing when the command changes nothing (control)', () => {
    expect(run('true')).toEqual([]);
  });

  it('moves aside a name created deep in an unchanged tree', () => {
    movedAside(run('echo pwned > d0/d1/d2/d3/.envrc'), 'd0/d1/d2/d3/.envrc');
  });

  it('moves aside a repository made elsewhere and renamed into place deep in the tree', () => {
    const moved = run('mkdir -p stage/.git && echo "[core]" > stage/.git/config && mv stage d1/d2/d3/moved');
    movedAside(moved, 'd1/d2/d3/moved/.git/config');
  });

  it('moves aside a name in a directory whose mtime the command set back to the exact value it had', () => {
    const before = statSync(at('d2/d3/d4'), { bigint: true });
    const stamp = `${before.mtimeNs / 1_000_000_000n}.${String(before.mtimeNs % 1_000_000_000n).padStart(9, '0')}`;
    // The command checks that the mtime is back (the move aside changes it again afterwards) and reports it in a file of its own.
    const moved = run(`echo pwned > d2/d3/d4/.envrc && touch -m -d @${stamp} d2/d3/d4 && stat -c %.9Y d2/d3/d4 > mtime-after`);
    expect(readFileSync(at('mtime-after'), 'utf8').trim(), 'the command could not set the mtime back: the test proves nothing').toBe(stamp);
    movedAside(moved, 'd2/d3/d4/.envrc');
  });

  it('moves aside a name made as a hard link to a file that was already there', () => {
    writeFileSync(at('d0/notes'), 'echo pwned\n');
    chownSync(at('d0/notes'), runner.uid, runner.gid);
    const moved = run('ln d0/notes d3/d4/d5/.envrc');
    movedAside(moved, 'd3/d4/d5/.envrc');
    expect(lstatSync(at('d0/notes')).nlink).toBe(2); // the link moved aside, the file it shares left where it was
  });

  it('moves aside a name under a directory the command made unreadable or unenterable', () => {
    const moved = run('echo pwned > d4/d0/d1/.envrc && chmod 0300 d4/d0/d1 && echo pwned > d4/d1/d1/.envrc && chmod 000 d4/d1/d1');
    // As root the search reads them and moves each name; otherwise it moves each directory aside whole.
    expect(moved.length).toBe(2);
    for (const rel of ['d4/d0/d1/.envrc', 'd4/d1/d1/.envrc']) expect(existsSync(at(rel)), `${rel} is still there`).toBe(false);
  });

  it('moves aside a name in a directory removed and made again under the same name', () => {
    movedAside(run('rm -rf d0/d2/d3 && mkdir d0/d2/d3 && echo pwned > d0/d2/d3/.envrc'), 'd0/d2/d3/.envrc');
  });
});
