/**
 * Read each credential's real value, once per run, before the sandbox
 * starts: from the caller's variable, a file, or a command run outside the
 * sandbox (a token minted for this run: `gh auth token`, a vault CLI). A
 * source that fails or yields nothing stops the run (125): the command
 * never starts with a credential missing. Each value gets its placeholder
 * here; the values stay in this process's memory (the proxy's vault).
 */
import { existsSync } from 'node:fs';
import { readSmallFile } from '../host/small-file.js';
import { IsolateError, errnoCode } from '../errors.js';
import { makeAwsPlaceholders, makePlaceholder } from '../network/credentials/placeholder.js';
import type { AwsKeys } from '../network/credentials/sigv4.js';
import { awsVariableNames, describeSource, type CredentialSpec, type LoadedCredential } from '../network/credentials/spec.js';
import { AWS_JSON_FIX, awsKeysFromEnv, awsKeysFromJson } from './aws-credential-source.js';
import { captureSync } from '../process.js';
import { TOKEN_SHAPES } from '../token-shapes.js';
import { credentialProgram, type ProgramCheck } from './credential-program.js';

/** How long a `from: command` may take. */
export const CREDENTIAL_COMMAND_TIMEOUT_MS = 30_000;
/** How a word of a failing command's output is shown in isolate's error. */
const REDACTED = '<redacted>';
/** Shorter values are too easy to find by chance in other text (the response scrubber replaces every copy). */
export const MIN_VALUE_LENGTH = 8;

type Env = Readonly<Record<string, string | undefined>>;

function fail(spec: CredentialSpec, what: string, fix: string, cause?: unknown): IsolateError {
  return new IsolateError('E_CREDENTIAL', `${spec.from}: credential ${spec.name} (${describeSource(spec)}): ${what}; the command was not run`, { fix, ...(cause === undefined ? {} : { cause }) });
}

/** Where a `from: command` runs: `cwd` (the caller's home), or / when it is not there. */
const commandDir = (cwd: string): string => (existsSync(cwd) ? cwd : '/');

/** The program a `from: command` source runs (credential-program.ts); refused when the sandbox could have changed it. */
function commandProgram(spec: CredentialSpec, name: string, env: Env, dir: string, programCheck: ProgramCheck): string {
  const program = credentialProgram(name, env, dir, programCheck);
  if (!program.ok) throw fail(spec, program.why, program.fix);
  return program.path;
}

/** Every `from: command` source's program checked as a run checks it, none started: what explain refuses as a run would. */
export function checkCredentialPrograms(specs: readonly CredentialSpec[], env: Env, cwd: string, programCheck: ProgramCheck): void {
  for (const spec of specs) {
    if (spec.source.kind === 'command') commandProgram(spec, spec.source.argv[0] ?? '', env, commandDir(cwd), programCheck);
  }
}

/** The most a file a credential or the upstream CA is read from may weigh (a bundle of CA certificates is a few hundred KiB). */
const MAX_HOST_FILE_BYTES = 16 * 1024 * 1024;

/**
 * A file a credential or network.upstreamCa is read from: a regular file, read without blocking. A named pipe or a
 * device (/dev/zero) there is refused, never waited on or read without end; otherwise why it cannot be read.
 */
function readHostFile(path: string): string | { why: string } {
  const bytes = readSmallFile(path, { maxBytes: MAX_HOST_FILE_BYTES });
  if (bytes === null) return { why: existsSync(path) ? 'not a regular file' : 'ENOENT' };
  if (bytes === undefined) return { why: `not readable, or larger than ${MAX_HOST_FILE_BYTES / 1024 / 1024} MiB` };
  return bytes.toString('utf8');
}

/** What a failing command's output might hold the value in: each word of its stdout long enough to be one (a token, a key of its JSON). */
const outputWords = (stdout: string): string[] => stdout.split(/[\s"',:{}[\]]+/).filter((w) => w.length >= MIN_VALUE_LENGTH);

/**
 * The first line of a failing credential command's stderr, for isolate's error, which the audit log, the run report
 * and an MCP client keep: every word it also printed on stdout (the value, printed before it failed) and every
 * token of a well-known shape is shown as <redacted>.
 */
function stderrLine(stderr: string, stdout: string): string {
  const line = stderr.trim().split('\n')[0] ?? '';
  const words = outputWords(stdout).sort((a, b) => b.length - a.length);
  const kept = words.reduce((acc, w) => acc.replaceAll(w, REDACTED), line);
  return TOKEN_SHAPES.reduce((acc, re) => acc.replace(re, REDACTED), kept);
}

function readSource(spec: CredentialSpec, env: Env, cwd: string, programCheck: ProgramCheck): string {
  const s = spec.source;
  if (s.kind === 'env') return env[s.name] ?? '';
  if (s.kind === 'file') {
    const read = readHostFile(s.path);
    if (typeof read !== 'string') throw fail(spec, `cannot read ${s.path}: ${read.why}`, 'check the path and that you can read the file');
    return read;
  }
  const [name = '', ...args] = s.argv;
  const dir = commandDir(cwd);
  const r = captureSync(commandProgram(spec, name, env, dir, programCheck), args, { env, cwd: dir, timeoutMs: CREDENTIAL_COMMAND_TIMEOUT_MS });
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error !== undefined ? (errnoCode(r.error) ?? r.error.message) : r.signal !== null ? `killed by ${r.signal}` : `exit ${r.status}`;
    const said = stderrLine(r.stderr, r.stdout);
    throw fail(spec, `the command failed (${why})${said === '' ? '' : `: ${said}`}`, `run ${s.argv.join(' ')} yourself to see why`);
  }
  return r.stdout;
}

/** The value without its final line break; refused when empty, short, or not one line of visible ASCII. */
function checkValue(spec: CredentialSpec, raw: string, emptyFix = spec.source.kind === 'env' ? `set ${spec.source.name} in your environment` : 'check the source'): string {
  const value = raw.replace(/\r?\n$/, '');
  if (value === '') throw fail(spec, 'the source yielded nothing', emptyFix);
  if (!/^[\x21-\x7e]+$/.test(value)) throw fail(spec, 'the value is not one line of visible ASCII characters (no spaces or control characters)', 'check the source: a credential is a single token');
  if (value.length < MIN_VALUE_LENGTH) throw fail(spec, `the value is shorter than ${MIN_VALUE_LENGTH} characters`, 'check the source: isolate handles tokens, not short passwords');
  return value;
}

/** network.upstreamCa's certificates, read once per run with the credentials (where the file may lie: profile/upstream-ca.ts). */
export function readUpstreamCa(path: string): string {
  const text = readHostFile(path);
  if (typeof text !== 'string') {
    throw new IsolateError('E_CREDENTIAL', `network.upstreamCa: cannot read ${path}: ${text.why}; the command was not run`, { fix: 'check the path' });
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new IsolateError('E_CREDENTIAL', `network.upstreamCa: ${path} holds no PEM certificate; the command was not run`, { fix: 'name a PEM file of CA certificates' });
  }
  return text;
}

/** An aws credential's keys, each checked as a value is, with their placeholders. */
function loadAws(spec: CredentialSpec, env: Env, cwd: string, programCheck: ProgramCheck): LoadedCredential {
  let keys: AwsKeys;
  if (spec.source.kind === 'env') keys = awsKeysFromEnv(spec.source.name, env);
  else {
    const parsed = awsKeysFromJson(readSource(spec, env, cwd, programCheck));
    if (!parsed.ok) throw fail(spec, parsed.message, AWS_JSON_FIX);
    keys = parsed.keys;
  }
  const names = awsVariableNames(spec.source.kind === 'env' ? spec.source.name : spec.name);
  const check = (value: string, name: string): string => checkValue(spec, value, spec.source.kind === 'env' ? `set ${name} in your environment` : AWS_JSON_FIX);
  const real: AwsKeys = { accessKeyId: check(keys.accessKeyId, names.accessKeyId), secretAccessKey: check(keys.secretAccessKey, names.secretAccessKey) };
  if (keys.sessionToken !== undefined) real.sessionToken = check(keys.sessionToken, names.sessionToken);
  const placeholder = makeAwsPlaceholders(real);
  return { spec, value: real.accessKeyId, placeholder: placeholder.accessKeyId, aws: { real, placeholder } };
}

/** `programCheck`: where a sandbox could change a credential command's program (credential-program.ts). */
export function loadCredentials(specs: readonly CredentialSpec[], env: Env, cwd: string, programCheck: ProgramCheck): LoadedCredential[] {
  return specs.map((spec) => {
    if (spec.kind === 'aws') return loadAws(spec, env, cwd, programCheck);
    const value = checkValue(spec, readSource(spec, env, cwd, programCheck));
    return { spec, value, placeholder: makePlaceholder(value) };
  });
}
