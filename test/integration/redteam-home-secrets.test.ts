/**
 * Red team: what `dev` (your home readable, but for the secret stores)
 * shows of logins kept where the deny list did not look: the browsers that
 * Ubuntu installs as snaps (Firefox's profile under ~/snap/firefox, its
 * cookies and saved passwords), Flatpak's browsers (~/.var/app), Chromium
 * browsers other than Chrome, Chromium, Brave and Edge (Vivaldi, Opera),
 * and chat clients whose session tokens are their logins (Slack, Discord,
 * Signal, Telegram, Element), and the password of code-server and the key
 * of Emacs's TCP server, local servers that run code. And the sockets of Docker-compatible engines
 * that live in the home directory (Colima, Lima, Rancher Desktop, OrbStack,
 * a Podman machine): a read-only mount does not stop connect(), and their
 * API runs a privileged container on the host; Jupyter's runtime files,
 * whose tokens let anyone on the host's network (dev's) run code in a
 * kernel or a terminal of the user's. And the home's other endpoints of
 * programs that act for whoever connects: PM2's daemon (its RPC socket
 * starts any command outside the sandbox; its dump keeps the environments
 * of the processes it runs), Bitwarden's SSH agent, and the X11 cookie,
 * with which a program on the host's network (dev's) reaches a display
 * (one forwarded by `ssh -X` listens on 127.0.0.1:6010) and types into it;
 * Syncthing's API key (its REST API on the loopback shares any folder with
 * another device, read by the daemon outside the sandbox) and device key;
 * Dropbox's linked account and command socket.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, isolateAsync, runners, tempDirFor, DEFAULT_PATH } from '../helpers/isolate.js';

const STORES = [
  'snap/firefox/common/.mozilla/firefox/abc.default/cookies.sqlite',
  'snap/firefox/common/.mozilla/firefox/abc.default/logins.json',
  'snap/chromium/common/chromium/Default/Cookies',
  'snap/thunderbird/common/.thunderbird/abc.default/logins.json',
  '.var/app/org.mozilla.firefox/.mozilla/firefox/abc.default/logins.json',
  '.var/app/com.google.Chrome/config/google-chrome/Default/Login Data',
  '.var/app/com.slack.Slack/config/Slack/Cookies',
  '.config/vivaldi/Default/Login Data',
  '.config/opera/Cookies',
  '.config/Slack/Cookies',
  '.config/discord/Local Storage/leveldb/000003.log',
  '.config/Signal/config.json',
  '.local/share/TelegramDesktop/tdata/key_datas',
  '.config/Element/Local Storage/leveldb/000003.log',
  // Passwords and keys of local servers that run code, reachable on the host's network (dev's).
  '.config/code-server/config.yaml',
  '.emacs.d/server/server',
];

const SOCKETS = [
  '.colima/default/docker.sock',
  '.lima/default/sock/docker.sock',
  '.rd/docker.sock',
  '.orbstack/run/docker.sock',
  '.local/share/containers/podman/machine/podman.sock',
];
const JUPYTER = '.local/share/jupyter/runtime/jpserver-4242.json';

/**
 * Keys and tokens that reach infrastructure or hold money, where their tools keep them by default: Cloudflare
 * Tunnel's account certificate and tunnel credentials, Teleport's keys and certificates, step's CA and provisioner
 * keys, aws-vault's file keyring, the CircleCI and Argo CD CLIs' tokens, OpenStack's clouds.yaml, HTTPie's saved
 * sessions (their auth headers and cookies), DBeaver's saved database logins, and wallets (Solana's CLI keypair,
 * geth's keystore, Bitcoin Core's and Electrum's). And histories beside the ones already hidden: atuin's (with its
 * sync key), Neovim's shada (old and new places), IPython's, irb's and pry's, Julia's, mongosh's, prezto's.
 * And Docker's legacy ~/.dockercfg, keyrings.alt's plaintext keyring, age's keys, Cloud Foundry's and Travis CI's
 * tokens.
 */
const MORE_STORES = [
  '.cloudflared/cert.pem',
  '.tsh/keys/proxy.example.com/alice',
  '.step/secrets/root_ca_key',
  '.awsvault/keys/default',
  '.circleci/cli.yml',
  '.config/argocd/config',
  '.config/openstack/clouds.yaml',
  '.config/httpie/sessions/api.example.com/default.json',
  '.local/share/DBeaverData/workspace6/General/.dbeaver/credentials-config.json',
  '.config/solana/id.json',
  '.ethereum/keystore/UTC--2024-01-01T00-00-00.000Z--abc',
  '.bitcoin/wallets/default/wallet.dat',
  '.electrum/wallets/default_wallet',
  '.local/share/atuin/key',
  '.local/share/atuin/history.db',
  '.local/state/nvim/shada/main.shada',
  '.local/share/nvim/shada/main.shada',
  '.ipython/profile_default/history.sqlite',
  '.irb_history',
  '.local/share/pry/pry_history',
  '.pry_history',
  '.julia/logs/repl_history.jl',
  '.mongodb/mongosh/mongosh_repl_history',
  // Docker's legacy registry logins, keyrings.alt's file store, age's keys, Cloud Foundry's and Travis CI's tokens, prezto's history.
  '.dockercfg',
  '.local/share/python_keyring/keyring_pass.cfg',
  '.config/age/keys.txt',
  '.cf/config.json',
  '.travis/config.yml',
  '.zhistory',
];

/**
 * Passwords and tokens kept in plain files by tools a developer's home often has: mail (msmtp, isync, fetchmail,
 * OfflineIMAP, aerc, himalaya, Emacs's authinfo), chat (irssi, WeeChat's secured data, HexChat, Pidgin), remote
 * desktops and file transfer (Remmina, FileZilla, a VNC password), git and package hosts (Gerrit's git cookies,
 * JFrog, Bundler, NuGet's other place, Hex, Dart's pub, Helm's chart repositories), deployment and data tools
 * (Chef, Puppet, Doppler, Railway, Kaggle, Twilio, InfluxDB, ClickHouse, WakaTime, NEAR, IPFS's node key), more
 * coding assistants' keys and MCP servers' tokens (opencode, Qwen Code, goose, Cursor's and Windsurf's MCP
 * configuration), and password managers' clients (LastPass, rbw, 1Password's first CLI).
 */
const TOOL_LOGINS = [
  '.msmtprc',
  '.config/msmtp/config',
  '.mbsyncrc',
  '.config/isyncrc',
  '.fetchmailrc',
  '.offlineimaprc',
  '.config/offlineimap/config',
  '.config/aerc/accounts.conf',
  '.config/himalaya/config.toml',
  '.authinfo',
  '.authinfo.gpg',
  '.irssi/config',
  '.weechat/sec.conf',
  '.config/weechat/sec.conf',
  '.config/hexchat/servlist.conf',
  '.purple/accounts.xml',
  '.config/remmina/remmina.pref',
  '.local/share/remmina/group_rdp_x.remmina',
  '.config/filezilla/sitemanager.xml',
  '.filezilla/recentservers.xml',
  '.vnc/passwd',
  '.gitcookies',
  '.jfrog/jfrog-cli.conf.v6',
  '.bundle/config',
  '.config/NuGet/NuGet.Config',
  '.hex/hex.config',
  '.pub-cache/credentials.json',
  '.config/dart/pub-credentials.json',
  '.config/dart/pub-tokens.json',
  '.config/helm/repositories.yaml',
  '.chef/credentials',
  '.puppetlabs/token',
  '.doppler/.doppler.yaml',
  '.railway/config.json',
  '.kaggle/kaggle.json',
  '.config/kaggle/kaggle.json',
  '.twilio-cli/config.json',
  '.influxdbv2/configs',
  '.clickhouse-client/config.xml',
  '.wakatime.cfg',
  '.near-credentials/mainnet/alice.json',
  '.ipfs/config',
  '.ipfs/keystore/key_x',
  '.local/share/opencode/auth.json',
  '.qwen/oauth_creds.json',
  '.config/goose/secrets.yaml',
  '.cursor/mcp.json',
  '.codeium/windsurf/mcp_config.json',
  '.lpass/session_uid',
  '.config/lpass/session_uid',
  '.local/share/lpass/session_uid',
  '.local/share/rbw/device_id',
  '.op/config',
];

/** Sockets of programs that act for whoever connects: PM2's daemon, Bitwarden's SSH agent (native and Flatpak). */
const AGENT_SOCKETS = ['.pm2/rpc.sock', '.pm2/pub.sock', '.bitwarden-ssh-agent.sock', '.var/app/com.bitwarden.desktop/data/.bitwarden-ssh-agent.sock', '.dropbox/command_socket'];
/**
 * Their files that hold what they act with: PM2's saved process list (with each process's environment), the X11
 * cookie, Erlang's distribution cookie (any code in a node it reaches), Syncthing's API key and device key (its REST API on the host's loopback shares any folder, ~/.ssh too,
 * with another device; old and new places), Dropbox's linked account (and its command socket, which makes links).
 */
const AGENT_FILES = ['.pm2/dump.pm2', '.Xauthority', '.erlang.cookie', '.config/erlang/.erlang.cookie', '.config/syncthing/config.xml', '.config/syncthing/key.pem', '.local/state/syncthing/config.xml', '.dropbox/instance1/config.dbx'];

/** Listen on each socket (anyone may connect, as a user's own socket lets the user); connect() succeeds from the backlog while the test waits. */
async function listenOn(paths: string[]): Promise<Server[]> {
  return Promise.all(
    paths.map(
      (path) =>
        new Promise<Server>((resolve, reject) => {
          mkdirSync(dirname(path), { recursive: true });
          const server = createServer();
          server.once('error', reject);
          server.listen(path, () => {
            chmodSync(path, 0o777);
            resolve(server);
          });
        }),
    ),
  );
}

describe.each(runners())('red team: logins in a readable home ($label)', (runner) => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDirFor(runner)));
  afterEach(() => cleanup());

  it('dev hides infrastructure keys and tokens, wallets, and the other histories', () => {
    const home = join(dir, 'home');
    const project = join(home, 'project');
    mkdirSync(project, { recursive: true });
    for (const rel of MORE_STORES) {
      mkdirSync(dirname(join(home, rel)), { recursive: true });
      writeFileSync(join(home, rel), `RT-KEY ${rel}\n`);
    }
    giveTo(runner, dir);
    const env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(dir, 'state') };
    const script = MORE_STORES.map((rel) => `cat ~/'${rel}' 2>/dev/null`).join('; ') + '; true';
    const r = isolate(runner, ['run', '-p', 'dev', '--', 'sh', '-c', script], { cwd: project, env });
    expect(r.status, r.stderr).toBe(0);
    const read = MORE_STORES.filter((rel) => r.stdout.includes(`RT-KEY ${rel}`));
    expect(read, 'keys and histories the command could read').toEqual([]);
  });

  it("dev hides the mail, chat, remote-desktop and transfer clients' passwords and more tools' tokens", () => {
    const home = join(dir, 'home');
    const project = join(home, 'project');
    mkdirSync(project, { recursive: true });
    const control = '.config/vlc/vlcrc';
    for (const rel of [...TOOL_LOGINS, control]) {
      mkdirSync(dirname(join(home, rel)), { recursive: true });
      writeFileSync(join(home, rel), `RT-TOOL ${rel}\n`);
    }
    giveTo(runner, dir);
    const env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(dir, 'state') };
    const script = [...TOOL_LOGINS, control].map((rel) => `cat ~/'${rel}' 2>/dev/null`).join('; ') + '; true';
    const r = isolate(runner, ['run', '-p', 'dev', '--', 'sh', '-c', script], { cwd: project, env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout, 'control: the rest of the home is readable').toContain(`RT-TOOL ${control}`);
    const read = TOOL_LOGINS.filter((rel) => r.stdout.includes(`RT-TOOL ${rel}\n`));
    expect(read, 'passwords and tokens the command could read').toEqual([]);
  });

  it('dev hides the snap and Flatpak browsers, the other Chromium browsers and the chat clients', () => {
    const home = join(dir, 'home');
    const project = join(home, 'project');
    mkdirSync(project, { recursive: true });
    for (const rel of STORES) {
      mkdirSync(dirname(join(home, rel)), { recursive: true });
      writeFileSync(join(home, rel), `RT-LOGIN ${rel}\n`);
    }
    giveTo(runner, dir);
    const env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(dir, 'state') };
    const script = STORES.map((rel) => `cat ~/'${rel}' 2>/dev/null`).join('; ') + '; true';
    const r = isolate(runner, ['run', '-p', 'dev', '--', 'sh', '-c', script], { cwd: project, env });
    expect(r.status, r.stderr).toBe(0);
    const read = STORES.filter((rel) => r.stdout.includes(`RT-LOGIN ${rel}`));
    expect(read, 'logins the command could read').toEqual([]);
  });

  it('dev hides the Docker-compatible engines\' sockets in the home directory and Jupyter\'s runtime tokens', async () => {
    const home = join(dir, 'home');
    const project = join(home, 'project');
    mkdirSync(project, { recursive: true });
    mkdirSync(dirname(join(home, JUPYTER)), { recursive: true });
    writeFileSync(join(home, JUPYTER), '{"token": "RT-JUPYTER-TOKEN"}\n');
    const servers = await listenOn(SOCKETS.map((rel) => join(home, rel)));
    try {
      giveTo(runner, dir);
      const env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(dir, 'state') };
      const probe = `import os, socket\nfor rel in ${JSON.stringify(SOCKETS)}:\n  s = socket.socket(socket.AF_UNIX)\n  try:\n    s.connect(os.path.expanduser('~/' + rel)); print('CONNECTED', rel)\n  except OSError as e: print('refused', rel, e.errno)\n`;
      const r = isolate(runner, ['run', '-p', 'dev', '--', 'sh', '-c', `python3 -c "$1"; cat ~/${JUPYTER} 2>/dev/null; true`, 'sh', probe], { cwd: project, env });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('refused');
      expect(r.stdout.split('\n').filter((l) => l.startsWith('CONNECTED')), 'sockets the command could connect to').toEqual([]);
      expect(r.stdout, "Jupyter's token was readable").not.toContain('RT-JUPYTER-TOKEN');
    } finally {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    }
  });

  it("dev hides PM2's daemon, Bitwarden's SSH agent, the X11 cookie, Syncthing's keys and Dropbox's login", async () => {
    const home = join(dir, 'home');
    const project = join(home, 'project');
    mkdirSync(project, { recursive: true });
    for (const rel of AGENT_FILES) {
      mkdirSync(dirname(join(home, rel)), { recursive: true });
      writeFileSync(join(home, rel), `RT-AGENT ${rel}\n`);
    }
    const servers = await listenOn(AGENT_SOCKETS.map((rel) => join(home, rel)));
    try {
      giveTo(runner, dir);
      const env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(dir, 'state') };
      const probe = `import os, socket\nfor rel in ${JSON.stringify(AGENT_SOCKETS)}:\n  s = socket.socket(socket.AF_UNIX)\n  try:\n    s.connect(os.path.expanduser('~/' + rel)); print('CONNECTED', rel)\n  except OSError as e: print('refused', rel, e.errno)\n`;
      const files = AGENT_FILES.map((rel) => `cat ~/'${rel}' 2>/dev/null`).join('; ');
      const r = await isolateAsync(runner, ['run', '-p', 'dev', '--', 'sh', '-c', `python3 -c "$1"; ${files}; true`, 'sh', probe], { cwd: project, env });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('refused');
      expect(r.stdout.split('\n').filter((l) => l.startsWith('CONNECTED')), 'sockets the command could connect to').toEqual([]);
      expect(AGENT_FILES.filter((rel) => r.stdout.includes(`RT-AGENT ${rel}`)), 'files the command could read').toEqual([]);
    } finally {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    }
  });
});
