/** The `check` tool: would the command policy let this command run, and which rule decides. Runs nothing. */
import * as z from 'zod';
import { check, type CheckResult } from '../index.js';
import type { ServerConfig } from './config.js';
import { commandOf } from './run-tool.js';

export const checkInput = {
  command: z.string().min(1).optional().describe('a shell command line, as the run tool would run it with /bin/sh -c (give command or argv)'),
  argv: z.array(z.string()).min(1).optional().describe('a program and its arguments (instead of command)'),
};

export const checkOutput = {
  decision: z.enum(['allowed', 'refused']),
  rule: z.string().nullable().describe('the rule that decides; null when none matched (no rules, or nothing in the allow list)'),
  list: z.enum(['allow', 'deny']).nullable(),
  reason: z.string(),
  command: z.array(z.string()).describe('the command as checked, secret-looking values redacted'),
  effective: z.array(z.string()).describe('the command matched against, after looking through wrappers such as env'),
};

export type CheckInput = { command?: string | undefined; argv?: string[] | undefined };

export async function checkCall(config: ServerConfig, input: CheckInput): Promise<{ command: string[]; result: CheckResult }> {
  const command = commandOf(input);
  return { command, result: await check(command, config.options) };
}

export function checkStructured(r: CheckResult): z.infer<z.ZodObject<typeof checkOutput>> {
  return { decision: r.decision, rule: r.rule, list: r.list, reason: r.reason, command: r.command, effective: r.effective };
}

export function checkText(r: CheckResult): string {
  return `${r.decision}: ${r.reason}\n`;
}
