/** A Plan whose launcher is `/bin/sh -c script fake-launcher ...args`, for run/'s tests on any host with a POSIX shell. */
import type { Plan } from '../../src/backends/types.js';

export function fakePlan(script: string, fds: Plan['fds'], args: string[] = []): Plan {
  return {
    backend: 'nsjail',
    backendVersion: 'test',
    argv: ['/bin/sh', '-c', script, 'fake-launcher', ...args],
    pipedArgs: [],
    fds,
    launcherEnv: {},
    childEnv: {},
    withheldEnv: [],
    command: { program: 'sh', resolved: '/bin/sh', args: [] },
    cwd: '/',
    cleanup: [],
    services: [],
    limits: { killAfterMs: 1000, enforce: 'rlimit' },
    summary: {
      readable: [],
      writable: [],
      hidden: [],
      tmpfs: [],
      protected: [],
      placeholders: [],
      network: 'none',
      limits: [],
      seccomp: { preset: 'none', install: false, arch: null, rules: [] },
      env: [],
      namespaces: [],
      notes: [],
    },
  };
}
