/**
 * Red team: a call's working directory (the MCP run tool's `cwd`, the API's
 * `workdir`) moves the command, never the sandbox; so it must not move what
 * isolate hides or cleans in it either. Under `strict` the project is
 * read-only, and the git configuration of every repository in it is shown
 * without its tokens (a CI checkout's extraheader, a token in a remote's
 * URL). The search for those repositories started from the working
 * directory: a call moved into one repository of the project saw its
 * sibling's token in full. And a run by root hides the root-only files under
 * the read-only paths (an application's key under /etc), except in the
 * user's own trees, the working directory among them: a call moved to /etc
 * made /etc the user's own, and read the key.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startMcp, type McpProcess } from '../helpers/mcp.js';
import { giveTo, projectSite, runners } from '../helpers/isolate.js';

const TOKEN = 'ghs_workdirSECRET0123456789abcdefghijklmn';
const HEADER = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');

/** A repository `name` in `project` whose configuration holds the token twice, as a CI checkout leaves it. */
function repository(project: string, name: string): void {
  const git = join(project, name, '.git');
  mkdirSync(git, { recursive: true });
  writeFileSync(join(git, 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(
    join(git, 'config'),
    `[core]\n\trepositoryformatversion = 0\n[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic ${HEADER}\n[remote "origin"]\n\turl = https://x-access-token:${TOKEN}@github.com/o/${name}.git\n`,
  );
}

describe.each(runners().map((runner) => ({ label: runner.label, runner })))('red team: a call moved to another directory of the project ($label)', ({ runner }) => {
  const cleanups: (() => void)[] = [];
  const servers: McpProcess[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    for (const c of cleanups.splice(0)) c();
  });

  it("isolate mcp -p strict: a sibling repository's token stays hidden from a call whose cwd is another repository", async () => {
    const site = projectSite(runner, 'isolate-it-mcp-workdir-');
    cleanups.push(site.cleanup);
    repository(site.project, 'a');
    repository(site.project, 'b');
    giveTo(runner, site.dir);
    const server = await startMcp(runner, ['-p', 'strict', '--audit-log', join(site.dir, 'audit.jsonl')], { cwd: site.project, env: site.env });
    servers.push(server);
    const cat = async (args: Record<string, unknown>): Promise<string> => {
      const r = (await server.client.callTool({ name: 'run', arguments: args })) as CallToolResult;
      const out = r.structuredContent as { exitCode: number; stdout: string } | undefined;
      expect(out?.exitCode, JSON.stringify(r.content)).toBe(0);
      return out?.stdout ?? '';
    };
    // Positive control: from the project, the file is read and its token is not in it.
    const fromProject = await cat({ argv: ['cat', 'b/.git/config'] });
    expect(fromProject).toContain('[remote "origin"]');
    expect(fromProject).not.toContain(TOKEN);
    for (const cwd of [join(site.project, 'a'), join(site.project, 'a', '.git')]) {
      const moved = await cat({ argv: ['cat', join(site.project, 'b', '.git', 'config')], cwd });
      expect(moved, cwd).toContain('[remote "origin"]');
      expect(moved, cwd).not.toContain(TOKEN);
      expect(moved, cwd).not.toContain(HEADER);
    }
  });

  if (runner.uid !== 0) console.warn(`red team: a call moved to a root-only file's directory skipped ${runner.label}: only a run by root owns root-only files`);
  it.skipIf(runner.uid !== 0)('isolate mcp as root: a root-only file under a read-only path stays hidden from a call whose cwd is its directory', async () => {
    const site = projectSite(runner, 'isolate-it-mcp-workdir-');
    cleanups.push(site.cleanup);
    // A stand-in for /etc: readable by the profile, holding a key only root may read (redteam-root-only.test.ts).
    const sys = join(site.dir, 'sys');
    mkdirSync(join(sys, 'app'), { recursive: true });
    writeFileSync(join(sys, 'app', 'secret.key'), 'ROOT-ONLY-WORKDIR-KEY\n', { mode: 0o600 });
    chmodSync(join(sys, 'app', 'secret.key'), 0o600);
    const profile = join(site.dir, 'sys.yaml');
    writeFileSync(profile, `extends: default\nfilesystem:\n  read:\n    - ${JSON.stringify(sys)}\n`);
    const server = await startMcp(runner, ['-p', profile, '--audit-log', join(site.dir, 'audit.jsonl')], { cwd: site.project, env: site.env });
    servers.push(server);
    for (const cwd of [undefined, sys, join(sys, 'app')]) {
      const args = { command: `cat ${JSON.stringify(join(sys, 'app', 'secret.key'))} 2>&1; echo done`, ...(cwd === undefined ? {} : { cwd }) };
      const r = (await server.client.callTool({ name: 'run', arguments: args })) as CallToolResult;
      const out = r.structuredContent as { stdout: string } | undefined;
      expect(out?.stdout, `${cwd}: ${JSON.stringify(r.content)}`).toContain('done');
      expect(out?.stdout, String(cwd)).not.toContain('ROOT-ONLY-WORKDIR-KEY');
    }
  }, 60_000);
});
