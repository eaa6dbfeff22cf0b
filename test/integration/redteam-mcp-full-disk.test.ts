/**
 * isolate mcp with its audit log on a full disk (a 64 KiB tmpfs the test
 * mounts, so root only): a call that cannot be recorded must not pass in
 * silence. The assistant may ignore `recorded: false`; the person who
 * started the server is told on its stderr, for each of the three tools.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startMcp, type McpProcess } from '../helpers/mcp.js';
import { giveTo, projectSite, runners, type Runner } from '../helpers/isolate.js';
import { smallTmpfs, tmpfsUnavailable, type SmallDisk } from '../helpers/tmpfs.js';

const noTmpfs = tmpfsUnavailable();
if (noTmpfs !== undefined) console.warn(`skipping the MCP full-disk audit tests: ${noTmpfs}`);

describe.skipIf(noTmpfs !== undefined).each(runners())('isolate mcp, its audit log on a full disk ($label)', (runner: Runner) => {
  const servers: McpProcess[] = [];
  const cleanups: (() => void)[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop(5000)));
    for (const c of cleanups.splice(0).reverse()) c();
  });

  it('says on stderr that a run, a check and an explain call are not in the audit log', async () => {
    const site = projectSite(runner, 'isolate-it-mcp-disk-');
    cleanups.push(site.cleanup);
    const disk: SmallDisk = smallTmpfs(64, runner);
    cleanups.push(() => disk.unmount());
    const log = join(disk.dir, 'state', 'audit.jsonl');
    giveTo(runner, site.dir);
    const server = await startMcp(runner, ['--audit-log', log], { cwd: site.project, env: site.env });
    servers.push(server);
    disk.fill();

    const run = await server.client.callTool({ name: 'run', arguments: { argv: ['true'] } });
    expect((run.structuredContent as { recorded: boolean }).recorded).toBe(false);
    await server.client.callTool({ name: 'check', arguments: { command: 'ls' } });
    await server.client.callTool({ name: 'explain', arguments: {} });

    const said = server.stderr();
    expect(said).toMatch(/isolate mcp: run: .*not in the audit log.*(ENOSPC|no space)/);
    expect(said).toMatch(/isolate mcp: check: .*not in the audit log.*(ENOSPC|no space)/);
    expect(said).toMatch(/isolate mcp: explain: .*not in the audit log.*(ENOSPC|no space)/);
  });
});
