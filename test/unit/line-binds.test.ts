/**
 * explain's command line: a profile's path a shell cannot open (a socket it
 * shares) is bound by its path there, not from a descriptor the line opens.
 */
import { describe, expect, it } from 'vitest';
import { bindArgsByPath, bindsByPath } from '../../src/backends/line-binds.js';

const ENTRIES = [
  { fd: 6, path: '/p/.git', readOnly: true },
  { fd: 7, path: '/usr', readOnly: true, bind: true as const },
  { fd: 8, path: '/run/user/1000/app.sock', readOnly: true, bind: true as const },
  { fd: 9, path: '/p', readOnly: false, bind: true as const },
];

describe('the profile binds in a command line', () => {
  it('only the binds a shell cannot open are taken by their path; a protected name never is', () => {
    const byPath = bindsByPath(ENTRIES, (path) => path.endsWith('.sock') || path === '/p/.git');
    expect([...byPath.keys()]).toEqual([8]);
  });

  it('rewrites --ro-bind-fd / --bind-fd of those, and nothing else', () => {
    const byPath = bindsByPath(ENTRIES, (path) => path.endsWith('.sock') || path === '/p');
    const argv = ['bwrap', '--ro-bind-fd', '6', '/p/.git', '--ro-bind-fd', '7', '/usr', '--ro-bind-fd', '8', '/run/user/1000/app.sock', '--bind-fd', '9', '/p', '--chdir', '/p'];
    expect(bindArgsByPath(argv, byPath)).toEqual(['bwrap', '--ro-bind-fd', '6', '/p/.git', '--ro-bind-fd', '7', '/usr', '--ro-bind', '/run/user/1000/app.sock', '/run/user/1000/app.sock', '--bind', '/p', '/p', '--chdir', '/p']);
  });

  it('leaves a descriptor option whose destination is not the entry\'s path as it is', () => {
    const byPath = bindsByPath(ENTRIES, () => true);
    expect(bindArgsByPath(['--ro-bind-fd', '8', '/elsewhere'], byPath)).toEqual(['--ro-bind-fd', '8', '/elsewhere']);
  });
});
