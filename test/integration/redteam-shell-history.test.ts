/**
 * Red team: a command the profile denies, run by bash from a place the
 * command policy did not read. `history -s 'cmd'` puts a command in bash's
 * history and `fc -s` runs it again; a `BASH_FUNC_name%%` variable given to
 * env defines a function that bash runs for `name`. Through `isolate mcp`
 * (whose calls are shell strings), with deny rules only, both ran the
 * denied command. Each must be refused (126) and leave nothing on the host.
 * History expansion (`set -o history -H`, then `!:1-2` after `: cmd`) runs
 * a line other than the one written: the policy said the script was
 * decided; it must say it cannot be.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startMcp, type McpProcess } from '../helpers/mcp.js';
import { giveTo, isolate, plant, projectSite, runners } from '../helpers/isolate.js';

const CASES = [
  ['history then fc -s', `bash -c "history -s 'touch ran-history'; fc -s"`, 'ran-history'],
  ['history then fc -e -', `bash -c "history -s touch ran-fc-e; fc -e -"`, 'ran-fc-e'],
  ['an exported function given to env', `env 'BASH_FUNC_make%%=() { touch ran-function; }' bash -c make`, 'ran-function'],
] as const;

describe.each(runners().map((runner) => ({ label: runner.label, runner })))('isolate mcp, a denied command run by bash again ($label)', ({ runner }) => {
  const cleanups: (() => void)[] = [];
  const servers: McpProcess[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    for (const c of cleanups.splice(0)) c();
  });

  /** A project whose profile denies `touch *`. */
  function denySite(): { site: ReturnType<typeof projectSite>; profile: string } {
    const site = projectSite(runner, 'isolate-it-shell-history-');
    cleanups.push(site.cleanup);
    const profile = plant(runner, site.dir, 'deny.yaml', 'extends: default\ncommands:\n  deny: ["touch *"]\n');
    giveTo(runner, site.dir);
    return { site, profile };
  }

  /** isolate mcp serving denySite's project. */
  async function denyServer(): Promise<{ site: ReturnType<typeof projectSite>; server: McpProcess }> {
    const { site, profile } = denySite();
    const server = await startMcp(runner, ['-p', profile, '--audit-log', join(site.dir, 'audit.jsonl')], { cwd: site.project, env: site.env });
    servers.push(server);
    return { site, server };
  }

  it.each(CASES)('%s: refused by the deny rule, and nothing ran', async (_name, command, made) => {
    const { site, server } = await denyServer();
    const r = (await server.client.callTool({ name: 'run', arguments: { command } })) as { isError?: boolean; content: Array<{ text?: string }> };
    const text = r.content.map((c) => c.text ?? '').join('');
    expect(existsSync(join(site.project, made)), text).toBe(false);
    expect(r.isError).toBe(true);
    expect(text).toContain('matches deny rule "touch *"');
  });

  it('control: the same profile runs a touch the rule does not see as such', async () => {
    const { site, server } = await denyServer();
    const r = (await server.client.callTool({ name: 'run', arguments: { command: 'echo made > ran-control' } })) as { isError?: boolean };
    expect(r.isError).not.toBe(true);
    expect(existsSync(join(site.project, 'ran-control'))).toBe(true);
  });

  it('history expansion makes the script undecidable: reported by check, never passed as decided', () => {
    const { site, profile } = denySite();
    const r = isolate(runner, ['check', '--json', '-p', profile, '--', 'bash', '-c', 'set -o history -H\n: touch ran-expansion\n!:1-2'], { cwd: site.project, env: site.env });
    const result = JSON.parse(r.stdout) as { decision: string; undecidable: { reason: string }[] };
    expect(result.undecidable.map((u) => u.reason)).toContain('history expansion (set -H): bash runs the lines after it as its history makes them (!!, !:1-2), not as written');
  });
});
