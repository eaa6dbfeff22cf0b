/**
 * `isolate export` from a checkout whose `.git/config` holds the CI job's
 * token (actions/checkout's extraHeader, GitLab's token in the remote's
 * URL): nothing exported carries the token or binds the host's file. The
 * OCI bundle carries the cleaned copy beside config.json and binds it from
 * there; the Kubernetes Pod mounts no file of the host at all.
 * (test/integration/oci-export.test.ts runs such a bundle with runc.)
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { exportPolicy, type Exported } from '../../src/index.js';

const GHS = 'ghs_exportgit0123456789abcdef';
const GLC = 'glcbt-exportgit0123456789';
const B64 = Buffer.from(`x-access-token:${GHS}`).toString('base64');
const CONFIG = `[core]\n\trepositoryformatversion = 0\n[remote "origin"]\n\turl = https://gitlab-ci-token:${GLC}@gitlab.com/g/p.git\n[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic ${B64}\n`;

const leaked = (e: Exported): string[] => e.entries.flatMap((x) => (x.kind === 'file' ? [GHS, GLC, B64].filter((s) => x.content.includes(s)).map((s) => `${x.path}: ${s}`) : []));

describe('isolate export from a checkout with a git token in .git/config', () => {
  let dir: string;
  let project: string;
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-exportgit-')));
    project = join(dir, 'project');
    mkdirSync(join(project, '.git'), { recursive: true });
    writeFileSync(join(project, '.git', 'config'), CONFIG);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const exported = (format: 'oci' | 'k8s'): Promise<Exported> => exportPolicy(['make'], { format, callerCwd: project, callerEnv: { HOME: dir, PATH: '/usr/bin:/bin' } });

  it('oci: the bundle holds the file without the token, in git-configs/, and binds it from there, never from the host', async () => {
    const out = await exported('oci');
    expect(leaked(out)).toEqual([]);
    const config = JSON.parse((out.entries.find((e) => e.path === 'config.json') as { content: string }).content) as { mounts: { destination: string; source: string }[] };
    const mount = config.mounts.find((m) => m.destination === join(project, '.git', 'config'));
    expect(mount?.source).toBe('git-configs/0');
    expect(config.mounts.filter((m) => m.source === join(project, '.git', 'config'))).toEqual([]);
    const copy = out.entries.find((e) => e.path === 'git-configs/0') as { content: string };
    expect(copy.content).toContain('https://gitlab.com/g/p.git');
    expect(copy.content).toContain('repositoryformatversion = 0');
    expect(out.notes.join('\n')).toMatch(/cleaned copies in git-configs\//);
    expect(readFileSync(join(project, '.git', 'config'), 'utf8')).toBe(CONFIG);
  });

  it('k8s: no hostPath volume, no token in any object', async () => {
    const out = await exported('k8s');
    expect(leaked(out)).toEqual([]);
    const yaml = (out.entries.find((e) => e.path === 'kubernetes.yaml') as { content: string }).content;
    const volumes = parseAllDocuments(yaml).flatMap((d) => {
      const o = d.toJS() as { kind: string; spec?: { template?: { spec?: { volumes?: Record<string, unknown>[] } } } };
      return o.spec?.template?.spec?.volumes ?? [];
    });
    expect(volumes.length).toBeGreaterThan(0);
    expect(volumes.filter((v) => 'hostPath' in v)).toEqual([]);
    expect(out.notes.join('\n')).toContain(`${join(project, '.git', 'config')} holds a credential`);
  });
});
