/**
 * With the working directory at a writable home, the command cannot leave a
 * file that a REPL, a database client, a debugger, a terminal, an editor, a
 * window manager, a mail client or the mail system on the host runs, or
 * takes a command from, at its next ordinary start (or, for mail, at the
 * next delivery). Judged on the host: after the run, none of these files
 * exists, and the host's own pdb and perl debugger, started afterwards, run
 * nothing the command chose; a plain file is written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { asRunner, isolate, keyValues, plant, DEFAULT_PATH } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { planter, useWritableHome } from '../helpers/writable-home.js';

/** Files each of which makes a host program run code the command chose, with no prompt. */
const PLANTED = [
  // REPLs, database clients and debuggers: their start-up files.
  '.irbrc',
  '.config/irb/irbrc',
  '.pryrc',
  '.config/pry/pryrc',
  '.Rprofile',
  '.Renviron',
  '.julia/config/startup.jl',
  '.ghci',
  '.ghc/ghci.conf',
  '.config/ghc/ghci.conf', // GHC 9.4 and later, where there is no ~/.ghc
  '.psqlrc',
  '.sqliterc',
  '.config/sqlite3/sqliterc',
  '.pdbrc',
  '.perldb',
  '.octaverc',
  '.sbclrc',
  '.config/ptpython/config.py',
  '.erlang',
  '.config/erlang/.erlang',
  '.iex.exs',
  '.ocamlinit',
  '.config/ocaml/init.ml',
  '.guile',
  '.tclshrc',
  '.gnuplot',
  '.mongoshrc.js',
  '.mongorc.js',
  '.swiplrc',
  '.config/swi-prolog/init.pl',
  '.lein/profiles.clj',
  '.clojure/deps.edn',
  // Terminals, editors and tools whose configuration is code or names a command.
  '.wezterm.lua',
  '.config/wezterm/wezterm.lua',
  '.config/kitty/kitty.conf',
  '.config/alacritty/alacritty.toml',
  '.config/alacritty.toml',
  '.config/alacritty.yml',
  '.alacritty.toml',
  '.alacritty.yml',
  '.config/ghostty/config',
  '.config/helix/languages.toml',
  '.config/lazygit/config.yml',
  '.config/sublime-text/Packages/User/rt.py',
  '.config/sublime-text-3/Packages/User/rt.py',
  '.local/share/JetBrains/IntelliJIdea2024.1/rt/lib/rt.jar',
  '.config/micro/init.lua',
  '.config/kak/kakrc',
  '.tigrc',
  '.config/tig/config',
  '.screenrc',
  '.mailcap',
  '.muttrc',
  '.mutt/muttrc',
  '.config/mutt/muttrc',
  '.neomuttrc',
  '.neomutt/neomuttrc',
  '.config/neomutt/neomuttrc',
  // Window managers (exec at start or reload) and the sound server's client configuration (daemon-binary).
  '.config/i3/config',
  '.i3/config',
  '.config/sway/config',
  '.sway/config',
  '.config/hypr/hyprland.conf',
  '.config/pulse/client.conf',
  // Mail delivery: a `|command` line, a recipe's action.
  '.forward',
  '.procmailrc',
  // Shell files Debian's tools source (sensible-editor, xdg-user-dir), cpan's Perl configuration, pnpm's global rc.
  '.selected_editor',
  '.config/user-dirs.dirs',
  '.cpan/CPAN/MyConfig.pm',
  '.config/pnpm/rc',
];

/**
 * The same start-up files as these tools also read them from the directory they start in (irb, pry, R, GHCi, pdb,
 * perl -d, Octave, IEx, the OCaml toplevel and utop). irb loads irbrc, _irbrc and $irbrc there besides .irbrc (all of them since 1.13, at
 * `rails console` too), and older ones irb.rc.
 */
const IN_PROJECT = ['.irbrc', 'irbrc', '_irbrc', '$irbrc', 'irb.rc', '.pryrc', '.Rprofile', '.ghci', '.pdbrc', '.perldb', '.octaverc', '.iex.exs', '.ocamlinit'];

const script = planter(PLANTED);

/** A program of the host's system directories, when installed (said why not). */
function hostHas(program: string, why: string): boolean {
  const here = spawnSync('sh', ['-c', `command -v ${program}`], { env: { PATH: DEFAULT_PATH }, timeout: 20_000 }).status === 0;
  if (!here) console.warn(`the host-${program} test is skipped: ${program} is not installed here (${why}); the planting test still covers its files`);
  return here;
}

describe.each(backendCases("checks of what a writable home makes the host's tools run"))("a writable home gains no start-up code for the host's tools ($label)", ({ runner, backend, backendEnv }) => {
  const fixture = useWritableHome(runner, backendEnv);
  let home: string;
  let env: Record<string, string>;
  beforeEach(() => {
    home = fixture.home();
    env = fixture.env();
  });

  const run = (script: string) => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: home, env });

  it('none of the start-up or configuration files these tools obey can be created; a plain file can', () => {
    const r = run(script);
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['notes.txt']).toBe('written'); // control: the home is writable
    for (const path of PLANTED) {
      expect(kv[path], path).toBe('refused');
      expect(existsSync(join(home, path)), `${path} on the host`).toBe(false);
    }
  });

  it("with rustup installed (~/.cargo exists), Cargo's home configuration, which every cargo in every project reads, can be neither made nor changed; its caches can", () => {
    // A linker, rustc-wrapper or runner named there runs at the user's next cargo build, test or run, in any project.
    plant(runner, home, '.cargo/bin/cargo', 'original\n', 0o755);
    const r = run(planter(['.cargo/config.toml', '.cargo/config', '.cargo/registry/cache/rt.crate']));
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['.cargo/registry/cache/rt.crate']).toBe('written'); // control: Cargo's caches stay writable
    for (const path of ['.cargo/config.toml', '.cargo/config']) {
      expect(kv[path], path).toBe('refused');
      expect(existsSync(join(home, path)), `${path} on the host`).toBe(false);
    }
  });

  it.runIf(hostHas('python3', 'apt-get install python3'))("the host's pdb runs no command the command chose (~/.pdbrc)", () => {
    const marker = join(home, 'pdb-ran');
    const r = run(`echo 'x = 1' > debugged.py; printf 'import os; os.system("touch ${marker}")\\ncontinue\\n' > .pdbrc; true`);
    expect(r.status, r.stderr).toBe(0);
    const pdb = asRunner(runner, ['python3', '-m', 'pdb', join(home, 'debugged.py')], { cwd: '/', env: { HOME: home }, input: 'quit\n' });
    expect(pdb.stdout, pdb.stderr).toContain('(Pdb)'); // control: the host's pdb started
    expect(existsSync(marker), 'the host pdb ran a command from a file the command wrote').toBe(false);
  });

  it.runIf(hostHas('perl', 'apt-get install perl'))("the host's perl debugger runs no code the command chose (~/.perldb)", () => {
    const marker = join(home, 'perldb-ran');
    const r = run(`printf 'system("touch ${marker}");\\n' > .perldb; chmod 600 .perldb; true`);
    expect(r.status, r.stderr).toBe(0);
    const perl = asRunner(runner, ['perl', '-d', '-e', 'print "debugged\\n"'], { cwd: '/', env: { HOME: home, PERLDB_OPTS: 'NonStop' } });
    expect(perl.stdout, perl.stderr).toContain('debugged'); // control: the host's perl ran under its debugger
    expect(existsSync(marker), 'the host perl debugger ran code from a file the command wrote').toBe(false);
  });

  it.runIf(hostHas('sensible-editor', 'apt-get install sensible-utils'))("the host's sensible-editor (crontab -e) runs no command the command chose (~/.selected_editor)", () => {
    const marker = join(home, 'editor-ran');
    const r = run(`printf 'touch ${marker}\\n' > .selected_editor; true`);
    expect(r.status, r.stderr).toBe(0);
    // EDITOR: the editor it then starts is true, never an interactive one.
    const editor = (): void => void asRunner(runner, ['sensible-editor', join(home, 'notes.txt')], { cwd: home, env: { HOME: home, PATH: DEFAULT_PATH, EDITOR: '/bin/true' } });
    editor();
    expect(existsSync(marker), 'the host sensible-editor ran a command from a file the command wrote').toBe(false);
    // Control: the same file written on the host is sourced by the host's sensible-editor.
    plant(runner, home, '.selected_editor', `touch ${marker}\n`);
    editor();
    expect(existsSync(marker), 'control: sensible-editor sources ~/.selected_editor').toBe(true);
  });

  it("psql's version-named start-up files in the home (~/.psqlrc-16.2, ~/.psqlrc-16, ~/.psqlrc-9.6), read before ~/.psqlrc, stay as they are", () => {
    const names = ['.psqlrc-16.2', '.psqlrc-16', '.psqlrc-9.6', '.psqlrc-9.6.24'];
    for (const name of names) plant(runner, home, name, '-- mine\n');
    const writes = [...names.map((n) => `echo '\\! touch /tmp/psql-ran' >> '${n}' 2>/dev/null && echo '${n}=written' || echo '${n}=refused'`), ...names.map((n) => `rm -f '${n}' 2>/dev/null && echo '${n}=removed' || true`), 'echo rt > notes.txt && echo notes.txt=written'];
    const r = run(writes.join('\n'));
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['notes.txt']).toBe('written'); // control: the home is writable
    for (const name of names) {
      expect(kv[name], name).toBe('refused');
      expect(readFileSync(join(home, name), 'utf8'), `${name} on the host`).toBe('-- mine\n');
    }
  });

  it("a project's own start-up files for these tools stay read-only, and ones a run makes are moved aside", () => {
    const project = join(home, 'project');
    plant(runner, home, 'project/.Rprofile', 'original\n');
    const made = IN_PROJECT.filter((name) => name !== '.Rprofile');
    const writes = [...IN_PROJECT, 'sub/.irbrc', 'sub/_irbrc', 'main.R'].map((p) => `mkdir -p "$(dirname '${p}')"; echo rt > '${p}' 2>/dev/null && echo '${p}=written' || echo '${p}=refused'`);
    const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', writes.join('\n')], { cwd: project, env });
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['main.R']).toBe('written'); // control: the project is writable
    expect(kv['.Rprofile']).toBe('refused');
    expect(readFileSync(join(project, '.Rprofile'), 'utf8')).toBe('original\n');
    for (const path of [...made, 'sub/.irbrc', 'sub/_irbrc']) expect(existsSync(join(project, path)), `${path} on the host`).toBe(false);
    const aside = [...readdirSync(project), ...readdirSync(join(project, 'sub')).map((n) => `sub/${n}`)].filter((n) => n.includes('.isolate-quarantined-'));
    for (const path of [...made, 'sub/.irbrc', 'sub/_irbrc']) expect(aside.some((n) => n.startsWith(`${path}.isolate-quarantined-`)), `${path} moved aside`).toBe(true);
  });
});
