/**
 * Red team: what `dev` (your home readable, but for the secret stores)
 * shows of logins kept where the deny list did not look: the browsers that
 * Ubuntu installs as snaps (Firefox's profile under ~/snap/firefox, its
 * cookies and saved passwords), Flatpak's browsers (~/.var/app), Chromium
 * browsers other than Chrome, Chromium, Brave and Edge (Vivaldi, Opera),
 * and chat clients whose session tokens are their logins (Slack, Discord,
 * Signal, Telegram, Element).
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, runners, tempDirFor, DEFAULT_PATH } from '../helpers/isolate.js';

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
];

describe.each(runners())('red team: logins in a readable home ($label)', (runner) => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDirFor(runner)));
  afterEach(() => cleanup());

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
});
