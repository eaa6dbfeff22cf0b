/**
 * Validating a profile document against the profile schema
 * (profile-schema.ts), with messages that name the key path. Loaded lazily:
 * only profile files read from disk, the build step (JSON Schema, built-in
 * profiles) and the start-up snapshot's warm-up need it.
 */
import * as z from 'zod/mini';
import { shown } from '../errors.js';
import type { ProfileDoc } from './types.js';
import { buildProfileSchema, type ProfileSchema } from './profile-schema.js';

let built: ProfileSchema | undefined;

/** The profile schema, built on first use (in the start-up snapshot: by its warm-up) and kept. */
function profileSchema(): ProfileSchema {
  built ??= buildProfileSchema();
  return built;
}

export interface SchemaIssue {
  path: string;
  message: string;
}

/** Render a key path the way a user reads it: `filesystem.write[2]`; a key that is not a plain name is quoted: `filesystem["rea d"]`. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (!/^[A-Za-z0-9_$][A-Za-z0-9_$-]*$/.test(String(key))) out += `[${shown(String(key))}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

const NULL_HINT = ' (a bare ~ is YAML for null: write "~")';

type ZodIssue = z.core.$ZodIssue;

function collectIssues(list: readonly ZodIssue[], prefix: readonly PropertyKey[], out: SchemaIssue[]): void {
  for (const issue of list) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatKeyPath([...path, key]), message: 'unknown key' });
    } else if (issue.code === 'invalid_union') {
      // A path entry is a string or { path, optional }: report against the shape the user wrote.
      const input = (issue as { input?: unknown }).input;
      if (path[path.length - 1] === 'from') {
        out.push({ path: formatKeyPath(path), message: 'expected one of { env: NAME }, { file: path } or { command: [program, args...] }' });
        continue;
      }
      // The branch whose type the value had (it failed inside, or a refinement): its issues say what is wrong.
      const shaped = issue.errors.find((branch) => branch.length > 0 && !branch.some(wrongType));
      const expected = expectedOf(issue.errors);
      const hint = input === null ? NULL_HINT : '';
      if (shaped !== undefined) collectIssues(shaped, path, out);
      else if (expected.includes('object')) out.push({ path: formatKeyPath(path), message: `expected a path string or { path, optional }${hint}` });
      else out.push({ path: formatKeyPath(path), message: `expected ${expected.join(' or ')}, received ${receivedOf(input)}${hint}` });
    } else {
      const hint = issue.message.endsWith('received null') ? NULL_HINT : '';
      out.push({ path: formatKeyPath(path), message: issue.message + hint });
    }
  }
}

/** An issue that says the value itself is not of a branch's type (rather than what is wrong inside it). */
const wrongType = (i: ZodIssue): boolean => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value' || i.code === 'invalid_union');

/** What a union's branches expected of the value itself: types (`string`, `object`) and literal values (`"unlimited"`). */
function expectedOf(branches: readonly (readonly ZodIssue[])[]): string[] {
  const out: string[] = [];
  for (const issue of branches.flat()) {
    if (issue.path.length !== 0) continue;
    if (issue.code === 'invalid_type') out.push(issue.expected);
    else if (issue.code === 'invalid_value') out.push(...issue.values.map((v) => JSON.stringify(v)));
    else if (issue.code === 'invalid_union') out.push(...expectedOf(issue.errors));
  }
  return [...new Set(out)];
}

/** A value as an error message names it: its JSON, or Infinity and NaN, which JSON has not. */
function receivedOf(input: unknown): string {
  return typeof input === 'number' && !Number.isFinite(input) ? String(input) : (JSON.stringify(input) ?? typeof input);
}

export type Validation = { ok: true; value: ProfileDoc } | { ok: false; issues: SchemaIssue[] };

/** What a zod schema's safeParse is to validateWith (the profile schema, or a test's other version of it). */
export interface ParsesProfiles {
  safeParse(data: unknown, params: { reportInput: boolean }): { success: true; data: unknown } | { success: false; error: { issues: readonly ZodIssue[] } };
}

/** A profile document validated by `schema`, its issues worded for a user (key paths, hints). */
export function validateWith(schema: ParsesProfiles, data: unknown): Validation {
  if (data === null || data === undefined) {
    return { ok: false, issues: [{ path: '(top level)', message: 'the profile is empty; expected a mapping such as `extends: default`' }] };
  }
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return { ok: true, value: result.data as ProfileDoc };
  const issues: SchemaIssue[] = [];
  collectIssues(result.error.issues, [], issues);
  return { ok: false, issues };
}

export function validateProfileDoc(data: unknown): Validation {
  return validateWith(profileSchema(), data);
}

export function profileJsonSchema(): unknown {
  return z.toJSONSchema(profileSchema(), { target: 'draft-2020-12' });
}
