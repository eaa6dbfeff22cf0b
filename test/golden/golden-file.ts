/**
 * Comparing a rendering with its golden file. vitest writes a snapshot file
 * that does not exist (outside CI), so a deleted golden file would come back
 * silently with whatever the code now prints; here a missing one fails,
 * unless UPDATE_GOLDEN=1 asks for the files to be written (test/vitest.config.ts
 * then has vitest rewrite every golden file that differs, too).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** How to rewrite the golden files after an intended change (package.json, docs/development.md). */
export const UPDATE_GOLDEN_COMMAND = 'npm run golden:update';

/** `name`: the golden file's path relative to test/golden/. */
export async function expectGolden(text: string, name: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<void> {
  const file = fileURLToPath(new URL(name, import.meta.url));
  if (env['UPDATE_GOLDEN'] !== '1' && !existsSync(file)) {
    expect.fail(`the golden file test/golden/${name} is missing; if the change that removed it is intended, write it again with \`${UPDATE_GOLDEN_COMMAND}\` and review the diff`);
  }
  await expect(text).toMatchFileSnapshot(file);
}
