/**
 * A credential's real value reaches the sandbox through the proxy only.
 * Two other ways would hand it to the command as it starts, and are
 * refused before it does (125):
 *
 * - a word of the command: the caller's shell expanded `"$TOKEN"` before
 *   isolate saw it (`-- curl -H "Authorization: Bearer $TOKEN" ...`);
 * - a variable of the command's environment other than the credential's
 *   own (which holds the placeholder): another name for the same token
 *   (CI sets GH_TOKEN and GITHUB_TOKEN alike) passed by `--env`,
 *   `environment.pass` or a wildcard, or a value set with it inside.
 *
 * The command as recorded (audit log, run report) shows `<NAME>` where a
 * word held a value, as the proxy's records show a path that held one.
 */
import { IsolateError } from '../errors.js';
import { valuePairs, type LoadedCredential } from '../network/credentials/spec.js';

interface Held {
  name: string;
  value: string;
}

/** Every real value of the credentials (a token's, an aws credential's three), with its credential's name. */
function valuesOf(loaded: readonly LoadedCredential[]): Held[] {
  return loaded.flatMap((c) => valuePairs(c).map(({ value }) => ({ name: c.spec.name, value })));
}

const holding = (text: string, values: readonly Held[]): Held | undefined => values.find((v) => text.includes(v.value));

/** Refuse a command whose words, or an environment whose variables, hold a credential's real value (`env`: the command's environment as planned). */
export function assertValuesStayOut(loaded: readonly LoadedCredential[], command: readonly string[], env: Readonly<Record<string, string>>): void {
  const values = valuesOf(loaded);
  for (const [i, word] of command.entries()) {
    const held = holding(word, values);
    if (held === undefined) continue;
    throw new IsolateError('E_CREDENTIAL', `word ${i} of the command holds the value of credential ${held.name} (a shell expanded $${held.name} before isolate saw it?): the command would get the real value; the command was not run`, {
      fix: `let the sandbox expand it, in single quotes: sh -c 'curl -H "Authorization: Bearer $${held.name}" ...' (the command's ${held.name} holds the placeholder, which the proxy replaces)`,
    });
  }
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    const held = holding(value, values);
    if (held === undefined) continue;
    throw new IsolateError('E_CREDENTIAL', `the variable ${name} holds the value of credential ${held.name}: the command would get the real value beside its placeholder; the command was not run`, {
      fix: `stop passing ${name} (--env, environment.pass or set), or make it a credential of its own (--credential ${name}@host), which gives it a placeholder`,
    });
  }
}

/** The command with every credential value in its words shown as `<NAME>`: what the audit log and the run report keep. */
export function maskValues(loaded: readonly LoadedCredential[], command: readonly string[]): string[] {
  const values = valuesOf(loaded).sort((a, b) => b.value.length - a.value.length);
  return command.map((word) => values.reduce((acc, v) => acc.replaceAll(v.value, `<${v.name}>`), word));
}
