/**
 * Build step: validate the built-in profiles, write them as JSON for the fast
 * path, and write the profile JSON Schema. Run by `npm run build`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { BUILTIN_NAMES, builtinSourcePath, packageRoot } from './builtin.js';
import { profileJsonSchema, validateProfileDoc } from './schema.js';
import { auditRecordJsonSchema, reportJsonSchema } from '../audit/report-schema.js';
import type { ProfileDoc } from './types.js';

/** One built-in profile's YAML source, validated as the build validates it. */
export function compileBuiltinFile(file: string): ProfileDoc {
  const result = validateProfileDoc(parse(readFileSync(file, 'utf8')));
  if (!result.ok) {
    throw new Error(`${file}: ${result.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
  return result.value;
}

export function compileBuiltins(): Record<string, ProfileDoc> {
  return Object.fromEntries(BUILTIN_NAMES.map((name) => [name, compileBuiltinFile(builtinSourcePath(name))]));
}

export function schemaText(): string {
  return `${JSON.stringify(profileJsonSchema(), null, 2)}\n`;
}

export function reportSchemaText(): string {
  return `${JSON.stringify(reportJsonSchema(), null, 2)}\n`;
}

export function auditRecordSchemaText(): string {
  return `${JSON.stringify(auditRecordJsonSchema(), null, 2)}\n`;
}

export const REPORT_SCHEMA_FILE = 'profiles/report.schema.json';
export const AUDIT_RECORD_SCHEMA_FILE = 'profiles/audit-record.schema.json';

/** The JSON Schema is committed (profiles/profile.schema.json) so changes show in review. */
export const SCHEMA_FILE = 'profiles/profile.schema.json';

function main(argv: string[]): void {
  const root = packageRoot();
  writeFileSync(new URL('dist/builtin-profiles.json', root), `${JSON.stringify(compileBuiltins())}\n`);
  if (argv.includes('--schema')) {
    writeFileSync(new URL(SCHEMA_FILE, root), schemaText());
    writeFileSync(new URL(REPORT_SCHEMA_FILE, root), reportSchemaText());
    writeFileSync(new URL(AUDIT_RECORD_SCHEMA_FILE, root), auditRecordSchemaText());
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
