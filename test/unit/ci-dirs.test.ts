/** Where CI runners keep a job's secrets beside the checkout (profile/ci-dirs.ts). Pure. */
import { describe, expect, it } from 'vitest';
import { ciLayoutPaths, ciSecretPaths } from '../../src/profile/ci-dirs.js';

const paths = (env: Record<string, string>): string[] => ciSecretPaths(env).map((p) => p.path);

describe('ciSecretPaths', () => {
  it('GitHub Actions: $RUNNER_TEMP, and the runner\'s credentials at the root of its _work directory', () => {
    expect(paths({ RUNNER_TEMP: '/opt/actions-runner/_work/_temp/' })).toEqual(['/opt/actions-runner/_work/_temp', '/opt/actions-runner/.credentials', '/opt/actions-runner/.credentials_rsaparams']);
    expect(paths({ RUNNER_TEMP: '/srv/work/_temp' })).toEqual(['/srv/work/_temp']);
    // A container job's temp directory: no runner root to tell.
    expect(paths({ RUNNER_TEMP: '/__w/_temp' })).toEqual(['/__w/_temp']);
  });

  it('GitLab: <project dir>.tmp, only in a GitLab job', () => {
    expect(paths({ GITLAB_CI: 'true', CI_PROJECT_DIR: '/builds/group/project' })).toEqual(['/builds/group/project.tmp']);
    expect(paths({ CI_PROJECT_DIR: '/builds/group/project' })).toEqual([]);
  });

  it('Jenkins: $WORKSPACE_TMP, and <workspace>@tmp in a Jenkins job; the keys of its stored credentials in $JENKINS_HOME', () => {
    expect(paths({ JENKINS_URL: 'http://j/', WORKSPACE: '/var/lib/jenkins/workspace/job', WORKSPACE_TMP: '/var/lib/jenkins/workspace/job@tmp' })).toEqual(['/var/lib/jenkins/workspace/job@tmp']);
    expect(paths({ JENKINS_HOME: '/var/lib/jenkins', WORKSPACE: '/var/lib/jenkins/workspace/job' })).toEqual(['/var/lib/jenkins/workspace/job@tmp', '/var/lib/jenkins/secrets', '/var/lib/jenkins/credentials.xml']);
    expect(paths({ WORKSPACE: '/w/job' })).toEqual([]);
  });

  it('never a relative path, the root, or a directory one name deep (/tmp whole)', () => {
    expect(paths({ RUNNER_TEMP: 'work/_temp' })).toEqual([]);
    expect(paths({ RUNNER_TEMP: '/' })).toEqual([]);
    expect(paths({ RUNNER_TEMP: '/tmp' })).toEqual([]);
    expect(paths({ JENKINS_URL: 'x', WORKSPACE_TMP: '/tmp/' })).toEqual([]);
    expect(paths({ RUNNER_TEMP: '/_work/_temp' })).toEqual(['/_work/_temp']);
  });
});

describe('ciLayoutPaths', () => {
  const layout = (cwd: string): string[] => ciLayoutPaths(cwd).map((p) => p.path);

  it('GitHub: <work>/_temp beside a checkout under a work directory named work or _work; a self-hosted runner\'s keys above _work', () => {
    expect(layout('/home/runner/work/repo/repo')).toContain('/home/runner/work/_temp');
    expect(layout('/home/runner/work/repo/repo')).not.toContain('/home/runner/.credentials');
    expect(layout('/opt/actions-runner/_work/repo/repo/src')).toEqual(expect.arrayContaining(['/opt/actions-runner/_work/_temp', '/opt/actions-runner/.credentials', '/opt/actions-runner/.credentials_rsaparams']));
  });

  it('GitLab and Jenkins: <dir>.tmp and <dir>@tmp beside the working directory and each directory above it; Jenkins\' keys above workspace/', () => {
    const paths = layout('/var/lib/jenkins/workspace/job');
    expect(paths).toEqual(expect.arrayContaining(['/var/lib/jenkins/workspace/job@tmp', '/var/lib/jenkins/workspace/job.tmp', '/var/lib/jenkins/secrets', '/var/lib/jenkins/credentials.xml']));
    expect(layout('/builds/group/project')).toEqual(expect.arrayContaining(['/builds/group/project.tmp', '/builds/group.tmp']));
  });

  it('never the working directory, a directory above it or inside it, the root, or a directory one name deep', () => {
    for (const cwd of ['/home/runner/work/_temp/x', '/x/work', '/builds/group/project']) {
      const paths = layout(cwd);
      const above = (p: string): boolean => cwd === p || cwd.startsWith(`${p}/`) || p.startsWith(`${cwd}/`);
      expect(paths.filter(above), cwd).toEqual([]);
      expect(paths.filter((p) => p.split('/').length < 3), cwd).toEqual([]);
    }
    expect(layout('/')).toEqual([]);
    expect(layout('/work')).toEqual([]);
  });

  it('also by where isolate was started, when the run works elsewhere; never the run\'s working directory or a directory above it', () => {
    const paths = ciLayoutPaths('/srv/a/b.tmp/c', '/srv/a/b').map((p) => p.path);
    expect(paths).not.toContain('/srv/a/b.tmp');
    expect(paths).toContain('/srv/a/b@tmp');
    expect(ciLayoutPaths('/srv/a/b', '/srv/a/b.tmp/c').map((p) => p.path)).not.toContain('/srv/a/b.tmp');
  });
});
