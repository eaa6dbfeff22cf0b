/**
 * Whether isolate can use a cgroup for the memory and process limits when it
 * runs as a given runner: asked of isolate itself (explain), so the answer
 * is the one `isolate run` acts on.
 */
import { mkdtempSync, rmSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolate, type Runner } from './isolate.js';

export interface CgroupSupport {
  usable: boolean;
  /** The version in use, e.g. "v1", or why none is usable. */
  detail: string;
}

export function cgroupSupport(runner: Runner): CgroupSupport {
  const dir = mkdtempSync(join(tmpdir(), 'isolate-it-cg-'));
  try {
    chownSync(dir, runner.uid, runner.gid);
    const r = isolate(runner, ['explain', '--json', '--memory', '64M', '--processes', '8', '--', 'true'], { cwd: dir, env: { HOME: dir } });
    if (r.status !== 0) return { usable: false, detail: r.stderr.trim().split('\n').slice(0, 3).join(' ') };
    const lines = (JSON.parse(r.stdout) as { summary: { limits: string[] } }).summary.limits;
    const used = lines.find((l) => !l.startsWith('cgroup:') && /\(cgroup v\d/.test(l));
    if (used !== undefined) return { usable: true, detail: /cgroup (v\d)/.exec(used)?.[1] ?? 'v?' };
    return { usable: false, detail: lines.find((l) => l.startsWith('cgroup:')) ?? 'no cgroup line in explain' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
