/**
 * What a sandboxed command could leave for later, or take away, around the
 * coding assistants that run it: hooks, MCP servers and custom commands in
 * a project (run by the assistant's next session, outside any sandbox), git
 * configuration in a writable home (run by the host's git), and the logins
 * and keys in a home the dev profile makes readable. Each check runs the
 * real sandbox, for each Linux backend, as root and as an unprivileged user,
 * and judges by the effect on the host.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attempts, token } from '../helpers/fs-fixture.js';
import { backendCases } from '../helpers/backends.js';
import { DEFAULT_PATH, asRunner, giveTo, homeWithProject, isolate, keyValues, plant, snapshot, tempDirFor, type Project, type Runner } from '../helpers/isolate.js';

const CASES = backendCases('assistant configuration checks');

/** Files assistants read from a project and start commands from: hooks, MCP servers, custom commands, tasks. */
const ASSISTANT_FILES = [
  '.claude/settings.json',
  '.claude/settings.local.json',
  '.claude/commands/deploy.md',
  '.mcp.json',
  '.cursor/mcp.json',
  '.cursor/hooks.json',
  '.windsurf/hooks.json',
  '.github/hooks/hooks.json',
  '.github/agents/helper.agent.md',
  '.vscode/mcp.json',
  '.vscode/tasks.json',
  '.gemini/settings.json',
  '.gemini/commands/deploy.toml',
  '.codex/config.toml',
  '.codex/hooks.json',
  '.continue/mcpServers/server.yaml',
  '.continuerc.json',
  '.aider.conf.yml',
  '.clinerules/hooks/TaskStart',
  '.roo/mcp.json',
  '.roomodes',
  '.kilocode/mcp.json',
  '.kilo/kilo.json',
  'kilo.json',
  'kilo.jsonc',
  'opencode.json',
  'opencode.jsonc',
  '.opencode/plugins/plugin.ts',
  '.zed/settings.json',
  '.zed/tasks.json',
  '.junie/mcp/mcp.json',
  '.amazonq/mcp.json',
  '.amazonq/cli-agents/agent.json',
  '.kiro/hooks/build.kiro.hook',
  '.kiro/settings/mcp.json',
  '.qwen/settings.json',
  '.devcontainer/devcontainer.json',
  '.devcontainer.json',
];

/** Write `rel`, creating its directories. */
const writeOp = (rel: string): string => `mkdir -p "$(dirname '${rel}')" && echo pwned > '${rel}'`;
/** Rename a new file over `rel` (what editors and config writers do), cleaning up the new file either way. */
const renameOp = (rel: string, i: number): string =>
  `t=.isolate-new-${i}; echo pwned > $t; mkdir -p "$(dirname '${rel}')"; mv -f $t '${rel}'; r=$?; rm -f $t; exit $r`;

/** `isolate run --backend <backend> <args>` in `cwd` with `env`. */
function runIn(c: (typeof CASES)[number], args: string[], cwd: string, env: Record<string, string>) {
  return isolate(c.runner, ['run', '--backend', c.backend, ...args], { cwd, env: { ...env, ...c.backendEnv } });
}

/** Every op blocked except the named controls, which must have worked. */
function expectBlocked(stdout: string, ops: Record<string, string>, controls: readonly string[]): void {
  const expected = Object.fromEntries(Object.keys(ops).map((k) => [k, controls.includes(k) ? 'WROTE' : 'blocked']));
  expect(keyValues(stdout)).toEqual(expected);
}

describe.each(CASES)('coding assistants\' configuration in the writable project ($label)', (c) => {
  let p: Project;
  beforeEach(() => {
    p = homeWithProject(c.runner);
  });
  afterEach(() => p.cleanup());

  it('cannot be created where it does not exist, and no placeholder is left behind', () => {
    const ops: Record<string, string> = {};
    ASSISTANT_FILES.forEach((rel, i) => {
      ops[`create:${rel}`] = writeOp(rel);
      ops[`rename:${rel}`] = renameOp(rel, i);
    });
    ops['normal'] = 'echo fine > normal.txt';
    ops['subdir'] = 'mkdir -p src && echo fine > src/app.txt';
    const r = runIn(c, ['--', 'sh', '-c', attempts(ops)], p.project, p.env);
    expect(r.status, r.stderr).toBe(0);
    expectBlocked(r.stdout, ops, ['normal', 'subdir']);
    // Only the command's own files: nothing planted, no placeholder (.claude, .mcp.json, .github, ...) left.
    expect(snapshot(p.project)).toEqual({ 'normal.txt': 'file:fine\n', src: 'dir', 'src/app.txt': 'file:fine\n' });
  });

  it('cannot be changed, replaced, removed or added to where it exists, at any depth', () => {
    const existing: Record<string, string> = {
      '.claude/settings.json': '{"hooks": {}}\n',
      '.claude/commands/review.md': 'Review the diff.\n',
      '.mcp.json': '{"mcpServers": {}}\n',
      '.cursor/mcp.json': '{"mcpServers": {}}\n',
      '.vscode/tasks.json': '{"version": "2.0.0"}\n',
      '.github/workflows/ci.yml': 'on: push\n',
      '.gemini/settings.json': '{}\n',
      '.codex/config.toml': 'model = "o3"\n',
      '.zed/settings.json': '{}\n',
      '.kiro/steering/product.md': 'A product.\n',
      'opencode.json': '{}\n',
      '.aider.conf.yml': 'auto-commits: false\n',
      'packages/app/.mcp.json': '{"mcpServers": {}}\n',
      'packages/app/.claude/settings.json': '{}\n',
    };
    for (const [rel, text] of Object.entries(existing)) plant(c.runner, p.project, rel, text);
    const before = snapshot(p.project);
    const ops: Record<string, string> = {};
    Object.keys(existing)
      .filter((rel) => !rel.startsWith('.github/workflows/'))
      .forEach((rel, i) => {
        ops[`append:${rel}`] = `echo pwned >> '${rel}'`;
        ops[`overwrite:${rel}`] = `echo pwned > '${rel}'`;
        ops[`rename:${rel}`] = renameOp(rel, i);
        ops[`remove:${rel}`] = `rm '${rel}'`;
      });
    for (const dir of ['.claude', '.cursor', '.vscode', '.gemini', '.codex', '.zed', '.kiro', 'packages/app/.claude']) ops[`move:${dir}`] = `mv '${dir}' '${dir}-moved'`;
    for (const rel of [
      '.claude/settings.local.json',
      '.claude/commands/deploy.md',
      '.claude/hooks/start.sh',
      '.cursor/hooks.json',
      '.vscode/mcp.json',
      '.github/hooks/hooks.json',
      '.github/agents/helper.agent.md',
      '.gemini/commands/deploy.toml',
      '.codex/hooks.json',
      '.zed/tasks.json',
      '.kiro/hooks/build.kiro.hook',
      'packages/app/.claude/settings.local.json',
    ]) {
      ops[`create:${rel}`] = writeOp(rel);
    }
    // Controls: the rest of the project, and of .github, stays writable.
    ops['workflow'] = "echo '# ok' >> .github/workflows/ci.yml";
    ops['normal'] = 'echo fine > normal.txt';
    const r = runIn(c, ['--', 'sh', '-c', attempts(ops)], p.project, p.env);
    expect(r.status, r.stderr).toBe(0);
    expectBlocked(r.stdout, ops, ['workflow', 'normal']);
    expect(snapshot(p.project)).toEqual({ ...before, '.github/workflows/ci.yml': 'file:on: push\n# ok\n', 'normal.txt': 'file:fine\n' });
  });
});

/** `git config --get core.fsmonitor` as the host's git would run it for the runner, with HOME at `home`. */
function hostFsmonitor(runner: Runner, home: string, dir: string) {
  return asRunner(runner, ['git', '-C', dir, 'config', '--get', 'core.fsmonitor'], { cwd: home, env: { HOME: home, PATH: DEFAULT_PATH, GIT_CONFIG_NOSYSTEM: '1' } });
}

const FSMONITOR = "printf '[core]\\n\\tfsmonitor = touch planted\\n'";

describe.each(CASES)('git configuration in a writable home ($label)', (c) => {
  let home: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir: home, cleanup } = tempDirFor(c.runner));
    spawnSync('git', ['init', '-q', `${home}/repo`]);
    giveTo(c.runner, home);
  });
  afterEach(() => cleanup());

  it('control: the host\'s git runs core.fsmonitor from ~/.gitconfig and from ~/.config/git/config', () => {
    for (const rel of ['.gitconfig', '.config/git/config']) {
      const { dir, cleanup: done } = tempDirFor(c.runner);
      try {
        plant(c.runner, dir, rel, '[core]\n\tfsmonitor = touch planted\n');
        const r = hostFsmonitor(c.runner, dir, dir);
        expect(r.stdout, rel).toBe('touch planted\n');
      } finally {
        done();
      }
    }
  });

  const layouts: Record<string, Record<string, string>> = {
    'with git configuration': { '.gitconfig': '[user]\n\tname = Someone\n', '.config/git/config': '[alias]\n\tst = status\n', '.config/app/settings': 'x\n' },
    'with ~/.config but no git configuration': { '.config/app/settings': 'x\n' },
    'that is empty': {},
  };
  for (const [name, files] of Object.entries(layouts)) {
    it(`cannot be planted for the host's git in a home ${name}, and git still works inside`, () => {
      for (const [rel, text] of Object.entries(files)) plant(c.runner, home, rel, text);
      const before = snapshot(home);
      const ops = {
        gitGlobal: "git config --global core.fsmonitor 'touch planted'",
        appendGitconfig: `${FSMONITOR} >> .gitconfig`,
        renameGitconfig: `${FSMONITOR} > .gc-new; mv -f .gc-new .gitconfig; r=$?; rm -f .gc-new; exit $r`,
        xdgWrite: `mkdir -p .config/git && ${FSMONITOR} >> .config/git/config`,
        xdgGit: "git config --file .config/git/config core.fsmonitor 'touch planted'",
        moveConfig: `mv .config .config-moved && mkdir -p .config/git && ${FSMONITOR} > .config/git/config`,
        // Controls: git reads its configuration (a blocked ~/.gitconfig is an empty file), the home is writable.
        gitWorks: 'git -C repo rev-parse --is-inside-work-tree && git -C repo config --list',
        normal: 'echo fine > notes.txt',
      };
      const r = runIn(c, ['--', 'sh', '-c', attempts(ops)], home, { HOME: home, PATH: DEFAULT_PATH });
      expect(r.status, r.stderr).toBe(0);
      expectBlocked(r.stdout, ops, ['gitWorks', 'normal']);
      // The host's git finds nothing planted, and the home has only the command's own file.
      for (const dir of [home, `${home}/repo`]) {
        const g = hostFsmonitor(c.runner, home, dir);
        expect(g.stdout).toBe('');
        expect(g.status, g.stderr).toBe(1);
      }
      expect(snapshot(home)).toEqual({ ...before, 'notes.txt': 'file:fine\n' });
    });
  }
});

/** Credential files developers' homes hold, one per store the profiles hide. */
const CREDENTIALS = [
  '.claude/.credentials.json',
  '.claude.json',
  '.codex/auth.json',
  '.gemini/oauth_creds.json',
  '.config/github-copilot/hosts.json',
  '.cache/huggingface/token',
  '.config/rclone/rclone.conf',
  '.s3cfg',
  '.oci/config',
  '.databrickscfg',
  '.config/gh/hosts.yml',
  '.config/glab-cli/config.yml',
  '.fly/config.yml',
  '.config/doctl/config.yaml',
  '.config/.wrangler/config/default.toml',
  '.local/share/com.vercel.cli/auth.json',
  '.config/netlify/config.json',
  '.supabase/access-token',
  '.config/configstore/firebase-tools.json',
  '.config/sops/age/keys.txt',
  '.pulumi/credentials.json',
  '.config/hcloud/cli.toml',
  '.config/ngrok/ngrok.yml',
  '.terraformrc',
  '.pgpass',
  '.my.cnf',
  '.dbt/profiles.yml',
  '.snowflake/connections.toml',
  '.config/containers/auth.json',
  '.nuget/NuGet/NuGet.Config',
  '.ivy2/.credentials',
  '.sbt/.credentials',
  '.config/composer/auth.json',
  '.config/pypoetry/auth.toml',
  '.local/share/uv/credentials/credentials.toml',
  '.aider.conf.yml',
  '.continue/config.yaml',
  '.env',
  '.ollama/id_ed25519',
  '.boto',
  '.config/Bitwarden CLI/data.json',
  '.config/Cursor/User/globalStorage/state.vscdb',
  '.config/JetBrains/IntelliJIdea2025.1/c.kdbx',
  '.cache/git/credential/socket',
  '.1password/agent.sock',
  '.minikube/profiles/minikube/client.key',
  '.local/share/fish/fish_history',
];

/** Beside them, what stays readable: the tools' caches, plugins and skills (dev makes the home readable for these). */
const READABLE = ['notes.txt', '.cache/huggingface/hub/model.txt', '.pulumi/plugins/plugin.txt', '.claude/skills/review/SKILL.md', '.gemini/settings.json'];

describe.each(CASES)('credentials in a home the dev profile makes readable ($label)', (c) => {
  let p: Project;
  const secrets = new Map<string, string>();
  const visible = new Map<string, string>();
  beforeEach(() => {
    p = homeWithProject(c.runner);
    for (const rel of CREDENTIALS) {
      secrets.set(rel, token('CREDENTIAL'));
      plant(c.runner, p.home, rel, secrets.get(rel) ?? '', 0o600);
    }
    for (const rel of READABLE) {
      visible.set(rel, token('READABLE'));
      plant(c.runner, p.home, rel, visible.get(rel) ?? '');
    }
  });
  afterEach(() => p.cleanup());

  it('cannot be read, by name or by a search of the home; the rest of the home can', () => {
    // Control: the runner can read every one of them on the host.
    const host = asRunner(c.runner, ['sh', '-c', `cd "$HOME" && cat ${CREDENTIALS.map((rel) => `'${rel}'`).join(' ')}`], { cwd: p.home, env: p.env });
    expect(host.status, host.stderr).toBe(0);
    for (const secret of secrets.values()) expect(host.stdout).toContain(secret);

    const script = [
      ...[...CREDENTIALS, ...READABLE].map((rel) => `cat ~/'${rel}' 2>/dev/null; echo`),
      `grep -rsh . "$HOME" --exclude-dir=project`,
      'true',
    ].join('\n');
    const r = runIn(c, ['-p', 'dev', '--', 'sh', '-c', script], p.project, p.env);
    expect(r.status, r.stderr).toBe(0);
    for (const [rel, secret] of secrets) expect(r.stdout + r.stderr, rel).not.toContain(secret);
    for (const [rel, text] of visible) expect(r.stdout, rel).toContain(text);
  });

  it('stores that do not exist on this machine do not stop a run', () => {
    const { dir: empty, cleanup } = tempDirFor(c.runner);
    try {
      const project = `${empty}/project`;
      plant(c.runner, empty, 'project/README', 'readme\n');
      const r = runIn(c, ['-p', 'dev', '--', 'cat', 'README'], project, { HOME: empty, PATH: DEFAULT_PATH });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('readme\n');
    } finally {
      cleanup();
    }
  });
});
