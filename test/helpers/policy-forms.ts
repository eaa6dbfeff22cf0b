/**
 * The red team's command-policy forms in the real sandbox: a project with
 * two profiles, `open` (the default profile, no command rules) and `allow`
 * (the default profile with an allow list), and the check each form faces.
 * A form is a script that writes the file MARK; it is first run under
 * `open`, where it must write MARK (else the test proves nothing), then
 * under `allow`, where it must be refused (126) with MARK not written.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { isolate, projectSite, type Runner } from './isolate.js';

export interface PolicySite {
  /** Run `script` with `shell -c` under the open profile or the allow list. */
  run(profile: 'open' | 'allow', script: string): ReturnType<typeof isolate>;
  /** The form with MARK replaced by a file name of its own in the project, where scripts run (and any other words by `words`). */
  spell(form: string): { script: string; file: string };
  cleanup(): void;
}

/** A project for `runner` whose allow list is `allow`; scripts run with `shell -c`; `words` replaces more placeholders in forms. */
export function policySite(runner: Runner, prefix: string, allow: readonly string[], shell = 'sh', words: Readonly<Record<string, string>> = {}): PolicySite {
  const { dir, project, env, cleanup } = projectSite(runner, prefix);
  const profiles = { open: join(dir, 'open.yaml'), allow: join(dir, 'allow.yaml') };
  writeFileSync(profiles.open, 'extends: default\n', { mode: 0o644 });
  writeFileSync(profiles.allow, `extends: default\ncommands: { allow: [${allow.map((r) => JSON.stringify(r)).join(', ')}] }\n`, { mode: 0o644 });
  let n = 0;
  return {
    run: (profile, script) => isolate(runner, ['run', '-p', profiles[profile], '--', shell, '-c', script], { cwd: project, env }),
    spell: (form) => {
      const name = `mark-${n++}`;
      const script = Object.entries(words).reduce((s, [from, to]) => s.replaceAll(from, to), form.replaceAll('MARK', name));
      return { script, file: join(project, name) };
    },
    cleanup,
  };
}

/** The form writes MARK under the open profile, and is refused (126, `reason` said) with MARK not written under the allow list; its harmless `twin` runs there. */
export function expectFormRefused(site: PolicySite, form: string, options: { twin?: string; reason?: string } = {}): void {
  const control = site.spell(form);
  const ran = site.run('open', control.script);
  expect(ran.status, ran.stderr).toBe(0);
  expect(existsSync(control.file), 'the form does not write its file: the test proves nothing').toBe(true);
  if (options.twin !== undefined) {
    const harmless = site.run('allow', site.spell(options.twin).script);
    expect(harmless.status, `the harmless twin is refused too: the test proves nothing\n${harmless.stderr}`).toBe(0);
  }
  const target = site.spell(form);
  const r = site.run('allow', target.script);
  expect(existsSync(target.file), 'the command no rule allows ran').toBe(false);
  expect(r.status, r.stderr).toBe(126);
  if (options.reason !== undefined) expect(r.stderr).toContain(options.reason);
}
