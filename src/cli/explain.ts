import { oneLine } from '../errors.js';
import { explain, protectedRows, type Explanation } from '../index.js';
import { commandOf, sandboxOptions } from './common.js';
import type { CliContext } from './context.js';
import type { Style } from './output.js';
import type { Invocation } from './program.js';

/** A row's value: one line, or one line per item (a path, a rule). */
type Value = string | readonly string[];

function list(items: readonly string[]): Value {
  return items.length === 0 ? '(none)' : items;
}

/**
 * A value as the terminal shows it. Paths, profile files and names come
 * from the profile and the repository: a newline or an escape sequence in
 * one is shown escaped, so it can neither start a line of its own nor
 * reach the terminal (errors.ts, oneLine). The command line escapes its
 * own (bashQuote).
 */
function shownValue(v: Value): string {
  return typeof v === 'string' ? oneLine(v) : v.map(oneLine).join('\n            ');
}

const seatbelt = (e: Explanation): boolean => e.backend.name === 'sandbox-exec';

function networkLine(e: Explanation): string {
  const s = e.summary;
  if (s.network === 'none') return seatbelt(e) ? 'none (network* denied, loopback included)' : 'none (an empty network namespace: no interfaces but loopback)';
  if (s.network === 'host') return seatbelt(e) ? 'host (shares the host network)' : "host (shares the host network: its loopback services and its abstract unix sockets, such as a desktop's X11 and D-Bus)";
  return seatbelt(e)
    ? `filtered: only TCP to isolate's proxy at ${s.proxy?.listen ?? ''} on the host loopback`
    : `filtered: own empty network namespace; ${s.proxy?.listen ?? ''} inside is forwarded by socat to isolate's proxy at ${s.proxy?.socket ?? ''}`;
}

function syscallsLine(e: Explanation): Value {
  const c = e.summary.seccomp;
  if (seatbelt(e)) return [c.install ? `preset ${c.preset}: macOS has no seccomp; Seatbelt rules refuse:` : `preset ${c.preset}: no hardening rules beyond the profile's;`, ...c.rules];
  return c.install ? [`seccomp preset ${c.preset} (${c.arch ?? '?'}); foreign architectures killed, x32 refused; refused:`, ...c.rules] : 'no seccomp filter (preset none)';
}

export function renderExplanation(e: Explanation, style: Style): string {
  const s = e.summary;
  const row = (k: string, v: Value): string => `${style.bold(k.padEnd(11))} ${shownValue(v)}\n`;
  let text = '';
  text += row('profile', `${e.profile.name} (${e.profile.sources.join(' -> ')})`);
  text += row('backend', `${e.backend.name} ${e.backend.version}`);
  text += row('command', [e.command.resolved, ...e.command.args].join(' '));
  text += row('cwd', e.cwd);
  text += row('network', networkLine(e));
  if (s.proxy !== undefined) {
    text += row('allow', s.proxy.allow.length === 0 ? '(nothing: every connection is denied)' : s.proxy.allow.join(' '));
    if (s.proxy.deny.length > 0) text += row('deny', s.proxy.deny.join(' '));
  }
  for (const c of e.credentials) {
    const ttl = c.ttlMs === null ? '' : `, for ${c.ttlMs / 1000}s`;
    const what =
      c.kind === 'aws'
        ? `${c.name} (aws: ${c.variables.join(', ')}): placeholder keys; the proxy checks each request's SigV4 signature and signs it again with the keys (${c.source})`
        : `${c.name}: a placeholder; the value (${c.source}) is added by the proxy`;
    text += row('credential', `${what} for ${c.hosts.join(', ')} only${ttl} (${c.from})`);
  }
  text += row('readable', list(s.readable));
  text += row('writable', list(s.writable));
  text += row('hidden', list(s.hidden));
  text += row('private', list(s.tmpfs.map((p) => `${p} (empty, discarded after the run)`)));
  text += row('protected', list(protectedRows(s)));
  text += row('env', s.env.join(' '));
  text += row('limits', list(s.limits));
  text += row('syscalls', syscallsLine(e));
  if (e.withheldEnv.length > 0) text += row('withheld', `${e.withheldEnv.join(' ')} (secret-looking; pass with --env NAME)`);
  text += row('isolation', seatbelt(e) ? 'Seatbelt profile (deny default), inherited by every child; no namespaces on macOS; new session' : `namespaces: ${s.namespaces.join(', ')}; nested user namespaces disabled; all capabilities dropped; no_new_privs; new session; dies with isolate`);
  for (const note of s.notes) text += row('note', note);
  for (const warning of e.warnings) text += row('warning', warning);
  text += `\n${style.bold(`how ${e.backend.name} enforces each feature`)}:\n`;
  for (const c of e.conformance) {
    text += `  ${(c.requested ? '*' : ' ')} ${c.id.padEnd(18)} ${c.how.padEnd(8)} ${oneLine(c.note)}\n`;
  }
  text += '  (* = asked for by this profile; native: by the backend; isolate: by isolate around it; none: not enforced)\n';
  text += `\n${style.bold('command line')} (bash; the descriptors it opens:\n  ${e.descriptors.map(oneLine).join('\n  ')})\n${e.commandLine}\n`;
  return text;
}

export async function explainCommand(inv: Invocation, ctx: CliContext): Promise<number> {
  const command = commandOf(inv);
  const e = await explain(command, sandboxOptions(inv, ctx.env));
  ctx.output.out(ctx.json ? `${JSON.stringify(e, null, 2)}\n` : renderExplanation(e, ctx.output.style('out')));
  return 0;
}
