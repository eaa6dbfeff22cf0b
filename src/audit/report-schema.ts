/**
 * The run report as a zod schema, for the published JSON Schema
 * (profiles/report.schema.json) and for tests that check real reports
 * against it; and the records of the audit log (the report, the
 * `run-started` record, the `segment` record), published as profiles/audit-record.schema.json.
 * Kept in step with the TypeScript types by compile-time checks.
 */
import * as z from 'zod';
import { REPORT_SCHEMA_VERSION, type RunReport, type RunStartedRecord } from './report.js';
import type { SegmentRecord } from './segment.js';
import { CALL_KIND, type CallRecord } from './call.js';
import { VERIFY_REASONS } from './log.js';
import { PROXY_CONNECTION_KIND, PROXY_STARTED_KIND, type ProxyConnectionRecord, type ProxyStartedRecord } from './proxy-record.js';

const nullableNumber = z.number().nullable();

const networkEvent = z.strictObject({
  time: z.string().describe('ISO 8601 time the attempt ended'),
  protocol: z.enum(['http', 'connect', 'socks5']),
  host: z.string(),
  port: z.number().int(),
  decision: z.enum(['allowed', 'denied']),
  rule: z.string().nullable().describe('the rule that decided; null when no allow rule matched'),
  reason: z.string(),
  address: z.string().optional().describe('the address connected to'),
  bytesUp: z.number().int(),
  bytesDown: z.number().int(),
  durationMs: z.number(),
  error: z.string().optional(),
});

const credentialEvent = z.strictObject({
  time: z.string().describe('ISO 8601'),
  name: z.string().describe('the credential (the variable the command sees)'),
  kind: z.enum(['injected', 'refused']).describe('injected: the proxy added the value; refused: a placeholder was going where it may not (credential misuse)'),
  host: z.string(),
  port: z.number().int(),
  method: z.string(),
  path: z.string().describe('the request path without its query'),
  reason: z.string().optional(),
});

const credentials = z
  .strictObject({
    defined: z.array(
      z.strictObject({
        name: z.string(),
        kind: z.literal('aws').optional().describe('aws: keys that sign (SigV4); absent: a token'),
        source: z.enum(['env', 'file', 'command']),
        hosts: z.array(z.string()),
        ttlMs: z.number().nullable(),
      }),
    ),
    events: z.array(credentialEvent).describe('the first 1000 injections and refusals'),
    misuse: z.number().int().describe('refusals among events'),
    omitted: z.number().int().optional().describe('events after the first 1000, only counted'),
  })
  .describe('credentials: what was defined, every value the proxy added and every placeholder it refused; never a value');

const denial = z.strictObject({
  time: z.string().describe('ISO 8601 time the log first recorded it'),
  pid: z.number().int(),
  process: z.string().describe('the process name as the kernel logged it'),
  operation: z.string().describe('the Seatbelt operation, e.g. file-read-data, file-write-create, network-outbound, mach-lookup'),
  target: z.string().nullable().describe('what it was on: a path, an address, a service name'),
  count: z.number().int().describe('how many log records reported this pid, operation and target'),
  systemPolicy: z.literal(true).optional().describe("refused by macOS's own system policy, not by isolate's profile"),
  message: z
    .string()
    .describe("the log message's first line as logged, which the fields above were parsed from; its process name and target are the sandbox's choice and may read like another denial"),
});

const denials = z
  .strictObject({
    source: z.literal('macos-unified-log'),
    pids: z.array(z.number().int()).describe('the processes of the sandbox isolate saw, which the denials are attributed to'),
    entries: z.array(denial),
    truncated: z.boolean().describe('more denials or log than isolate reads; the rest is left out'),
    error: z.string().nullable().describe('why the log could not be read (completely)'),
  })
  .describe('sandbox-exec on macOS only: what the sandbox refused, from the unified log; best effort (the log may record a denial after isolate read it)');

const limits = z.strictObject({
  timeoutMs: z.number().optional(),
  killAfterMs: z.number(),
  cpuSeconds: z.number().optional(),
  memoryBytes: z.number().optional(),
  processes: z.number().optional(),
  openFiles: z.number().optional(),
  fileSizeBytes: z.number().optional(),
  tmpfsBytes: z.number().optional(),
  enforce: z.enum(['rlimit', 'cgroup']),
  ceilings: z
    .strictObject({ tmpfsBytes: z.number().optional(), processes: z.number().optional(), memoryBytes: z.number().optional() })
    .optional()
    .describe('the built-in profiles\' ceilings no limit replaces, applied where the host can'),
});

const recordRef = z.strictObject({ seq: z.number().int(), hash: z.string() });

const runAudit = z
  .strictObject({
    enabled: z.boolean().describe('false: not recorded by choice (--no-audit, audit.enabled: false)'),
    required: z.boolean().describe("the profile's audit.required: the CLI exits 125 when the run is not recorded"),
    log: z.string().nullable().describe('the log file; null when disabled or there is no location for it'),
    started: recordRef.nullable().describe('the run-started record, written before the command started; null when none was written'),
    completed: recordRef.nullable().describe('the record of the outcome; null when it could not be written'),
    recorded: z.boolean().describe('whether the outcome is in the log'),
    warnings: z.array(z.string()).describe('what went wrong, each saying whether its record was written'),
  })
  .describe('whether and where the run is recorded; in the report isolate returns and prints, not in the log itself');

const user = z.strictObject({ uid: z.number().int(), gid: z.number().int(), name: z.string().nullable() }).describe('who ran isolate');
const profile = z
  .strictObject({
    name: z.string(),
    sources: z.array(z.string()).describe('the files or built-ins merged, base first'),
    sha256: z.string().nullable().describe('sha256 of the fully resolved policy, canonical JSON'),
  })
  .describe('the profile');
const schemaVersion = z.literal(REPORT_SCHEMA_VERSION).describe('2 added the audit field and the run-started record');
const runId = z.string().describe('random identifier of the run (UUID)');
const command = z.array(z.string()).describe('argv as given, secret-looking values replaced by <redacted>');
const cwd = z.string().describe('working directory inside the sandbox');

const origin = z
  .strictObject({
    via: z.literal('mcp'),
    tool: z.enum(['run', 'check', 'explain']),
    client: z.strictObject({ name: z.string(), version: z.string() }).nullable().describe("the client's name and version from the initialize handshake"),
  })
  .describe('who asked for the run when not the CLI or the API directly: the MCP server (isolate mcp), its tool and its client');

const policyDecision = z
  .strictObject({
    decision: z.enum(['allowed', 'refused']),
    rule: z.string().nullable(),
    list: z.enum(['allow', 'deny']).nullable(),
    reason: z.string(),
  })
  .nullable();

const errorShape = z.strictObject({ code: z.string(), summary: z.string(), detail: z.string().optional(), fix: z.string().optional() }).nullable();

export const runReportSchema = z
  .strictObject({
    schemaVersion,
    kind: z.literal('run'),
    runId,
    startedAt: z.string().describe('ISO 8601'),
    endedAt: z.string().describe('ISO 8601'),
    durationMs: z.number().describe('time the sandbox ran, or isolate worked when it refused'),
    command,
    cwd,
    user,
    profile,
    backend: z
      .strictObject({ name: z.string(), version: z.string(), argv: z.array(z.string()).describe('exact argv executed, command arguments redacted') })
      .nullable(),
    network: z
      .strictObject({
        mode: z.string(),
        allow: z.array(z.string()),
        deny: z.array(z.string()),
        events: z.array(networkEvent).describe('the first 1000 connection attempts'),
        omitted: z.strictObject({ allowed: z.number().int(), denied: z.number().int() }).optional().describe('attempts after the first 1000, only counted'),
        credentials: credentials.optional(),
      })
      .nullable()
      .describe('network mode; for filtered, the rules and every connection attempt'),
    env: z.array(z.string()).describe('names of the variables the command received, never values'),
    policy: policyDecision.describe('the command-policy decision, when the profile has command rules'),
    exitCode: z.number().int().describe("the command's code; 128+N signal; 124 timeout; 125 isolate failed; 126 not executable or refused; 127 not found"),
    signal: z.string().nullable(),
    timedOut: z.boolean(),
    limit: z.enum(['timeout', 'cpu', 'fileSize', 'memory', 'processes']).nullable().describe('the limit that ended the run, when certain (memory and processes: only when a cgroup enforced them)'),
    limits: limits.nullable(),
    resources: z.strictObject({ userCpuMs: nullableNumber, systemCpuMs: nullableNumber, peakMemoryBytes: nullableNumber }),
    stdout: z.string().optional().describe('--json and the API only'),
    stderr: z.string().optional(),
    truncated: z.strictObject({ stdout: z.boolean(), stderr: z.boolean() }).optional(),
    outputBytes: z
      .strictObject({ stdout: z.number().int(), stderr: z.number().int() })
      .optional()
      .describe('with captured output: how many bytes the command wrote to each, kept or not'),
    denials: denials.optional(),
    cancelled: z.literal(true).optional().describe('the caller cancelled the run (an MCP client, the API): every process of the sandbox was killed'),
    terminal: z
      .strictObject({ given: z.boolean(), reason: z.string().optional(), fix: z.string().optional() })
      .optional()
      .describe("present when the run asked for a terminal of its own (isolate's stdin and stdout were terminals, no --no-tty): whether the command got a pseudo-terminal of the sandbox's own, and why not"),
    outputCut: z
      .literal(true)
      .optional()
      .describe(
        'sandbox-exec only: a process that left the process group (setsid) still held stdout or stderr open after the command exited; isolate stopped reading a moment later, so output may be cut',
      ),
    leftBehind: z
      .strictObject({ path: z.string(), reason: z.string() })
      .optional()
      .describe('sandbox-exec only: the run directory could not be removed safely and was left at path (reason: an errno code, or ESANDBOXWRITABLE when the profile could still write there)'),
    quarantined: z
      .array(z.strictObject({ path: z.string(), movedTo: z.string().nullable(), reason: z.string().optional(), error: z.string().optional() }))
      .optional()
      .describe('protected names the run created, renamed aside after it (movedTo) so that nothing on the host obeys them; reason: why, when it is not simply such a name (a directory that could not be searched, moved whole; a directory moved in place of a name that could not be); movedTo null: the rename failed (error)'),
    cleanupErrors: z.array(z.string()).optional().describe('what isolate could not clean up after the run, and what becomes of it'),
    error: errorShape.describe("isolate's own failure, if any"),
    origin: origin.optional(),
    audit: runAudit.optional(),
  })
  .describe('isolate run report');

export const runStartedSchema = z
  .strictObject({
    schemaVersion,
    kind: z.literal('run-started'),
    runId,
    startedAt: z.string().describe('ISO 8601'),
    command,
    cwd,
    user,
    profile,
    backend: z.strictObject({ name: z.string(), version: z.string() }),
    isolate: z
      .strictObject({ pid: z.number().int(), host: z.string() })
      .describe('the isolate process that runs it: while it is alive, the run may still be going'),
    origin: origin.optional(),
  })
  .describe('written to the audit log before the command starts; without a run record of the same runId after it, the run never ended in a recorded way (isolate was killed, or the host stopped)');

export const segmentSchema = z
  .strictObject({
    schemaVersion,
    kind: z.literal('segment'),
    sealedAt: z.string().describe('ISO 8601 time of `isolate audit seal`'),
    continues: z
      .strictObject({
        file: z.string().describe("the sealed log's file name, in the same directory"),
        seq: z.number().int().describe("the sealed log's last record that verified (0 when none did)"),
        hash: z.string().describe("that record's hash (64 zeros when none did); this record's prevHash"),
      })
      .describe('the sealed log this one continues'),
    damage: z
      .strictObject({
        line: z.number().int(),
        reason: z.enum(VERIFY_REASONS),
        detail: z.string(),
      })
      .describe('the first line of the sealed log that did not verify, and why'),
  })
  .describe('the first record of a log started by `isolate audit seal`: the chain continues from the sealed log');

export const callSchema = z
  .strictObject({
    schemaVersion,
    kind: z.literal(CALL_KIND),
    callId: z.string().describe('random identifier of the call (UUID)'),
    time: z.string().describe('ISO 8601'),
    origin,
    command: command.nullable().describe('the command asked about (check); null for explain'),
    user,
    profile,
    policy: policyDecision.describe("the command policy's decision (check); null for explain"),
    error: errorShape.describe("isolate's own failure, if any"),
  })
  .describe('a call of the MCP server that started no sandbox (check, explain)');

export const proxyConnectionSchema = z
  .strictObject({
    schemaVersion,
    kind: z.literal(PROXY_CONNECTION_KIND),
    proxy: z.strictObject({ listen: z.string().describe('the address or socket it listened on'), pid: z.number().int() }).describe('the isolate proxy that served it'),
    user,
    event: networkEvent.describe('the connection, as in the run report\'s network.events'),
  })
  .describe('a connection isolate proxy finished, recorded with --audit');

export const proxyStartedSchema = z
  .strictObject({
    schemaVersion,
    kind: z.literal(PROXY_STARTED_KIND),
    time: z.string().describe('ISO 8601'),
    proxy: z.strictObject({ listen: z.string(), pid: z.number().int() }),
    user,
    rules: z.strictObject({ allow: z.array(z.string()), deny: z.array(z.string()) }).describe('the domain rules it serves'),
  })
  .describe('isolate proxy started with --audit and listens; its connections follow as proxy-connection records');

const envelope = {
  seq: z.number().int().describe('1, 2, 3, ... in each log file'),
  prevHash: z.string().describe("the previous record's hash; 64 zeros for the first record of a log"),
  hash: z.string().describe('hex sha256 of prevHash + "\\n" + the canonical JSON of the record without hash'),
};

/** One line of the audit log. */
export const auditRecordSchema = z
  .discriminatedUnion('kind', [
    runReportSchema.omit({ audit: true, stdout: true, stderr: true, truncated: true }).extend(envelope),
    runStartedSchema.extend(envelope),
    segmentSchema.extend(envelope),
    callSchema.extend(envelope),
    proxyConnectionSchema.extend(envelope),
    proxyStartedSchema.extend(envelope),
  ])
  .describe('one line of the isolate audit log (JSON Lines)');

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const inSync: Same<keyof z.infer<typeof runReportSchema>, keyof RunReport> = true;
const startedInSync: Same<z.infer<typeof runStartedSchema>, RunStartedRecord> = true;
const segmentInSync: Same<z.infer<typeof segmentSchema>, SegmentRecord> = true;
void inSync;
void startedInSync;
void segmentInSync;
const callInSync: Same<keyof z.infer<typeof callSchema>, keyof CallRecord> = true;
void callInSync;
const proxyInSync: Same<keyof z.infer<typeof proxyConnectionSchema>, keyof ProxyConnectionRecord> = true;
void proxyInSync;
const proxyStartedInSync: Same<z.infer<typeof proxyStartedSchema>, ProxyStartedRecord> = true;
void proxyStartedInSync;

export function reportJsonSchema(): unknown {
  return z.toJSONSchema(runReportSchema, { target: 'draft-2020-12' });
}

export function auditRecordJsonSchema(): unknown {
  return z.toJSONSchema(auditRecordSchema, { target: 'draft-2020-12' });
}
