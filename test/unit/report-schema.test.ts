import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUDIT_RECORD_SCHEMA_FILE, REPORT_SCHEMA_FILE, auditRecordSchemaText, reportSchemaText } from '../../src/profile/generate.js';
import { REPO } from '../helpers/isolate.js';

describe('report JSON Schema', () => {
  it('profiles/report.schema.json is in sync with the zod schema (run `npm run schema` after changing it)', () => {
    expect(readFileSync(`${REPO}/${REPORT_SCHEMA_FILE}`, 'utf8')).toBe(reportSchemaText());
    expect(readFileSync(`${REPO}/${AUDIT_RECORD_SCHEMA_FILE}`, 'utf8')).toBe(auditRecordSchemaText());
  });

  it('documents every field and rejects unknown ones', () => {
    const schema = JSON.parse(reportSchemaText()) as { additionalProperties: unknown; required: string[]; properties: Record<string, unknown> };
    expect(schema.additionalProperties).toBe(false);
    for (const key of ['runId', 'user', 'profile', 'backend', 'network', 'env', 'policy', 'exitCode', 'resources', 'error']) {
      expect(schema.required).toContain(key);
    }
  });
});
