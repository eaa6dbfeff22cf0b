/**
 * README and docs/ point at each other, at the profiles and at the source;
 * error messages and comments point at docs/ pages. A page renamed or a
 * heading reworded must not leave a link or a user-facing pointer that leads
 * nowhere.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NSJAIL_INSTALL_DOC } from '../../src/backends/nsjail.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCS = join(ROOT, 'docs');
const PAGES = readdirSync(DOCS).filter((f) => f.endsWith('.md')).map((f) => join(DOCS, f));
const MARKDOWN = [join(ROOT, 'README.md'), ...PAGES];

/** The text outside fenced code blocks (a `[x](y)` in a code sample is not a link). */
function prose(file: string): string {
  return readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function headings(file: string): string[] {
  return [...prose(file).matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1] ?? '');
}

/** Every relative link of a file: [text](target), without web and mail addresses. */
function links(file: string): string[] {
  return [...prose(file).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((t) => !/^[a-z]+:/i.test(t));
}

describe('documentation links', () => {
  it('docs/ has pages, and README links to every one', () => {
    expect(PAGES.length).toBeGreaterThan(5);
    const fromReadme = new Set(links(join(ROOT, 'README.md')).map((t) => join(ROOT, t.split('#')[0] ?? '')));
    for (const page of PAGES) expect(fromReadme, relative(ROOT, page)).toContain(page);
  });

  it('every page opens with a title and an introduction', () => {
    for (const page of PAGES) {
      const [title, blank, intro] = readFileSync(page, 'utf8').split('\n');
      expect(title, relative(ROOT, page)).toMatch(/^# \S/);
      expect(blank, relative(ROOT, page)).toBe('');
      expect(intro, relative(ROOT, page)).toMatch(/^[^#|`\s-]/);
    }
  });

  it('every relative link leads to a file, and every #anchor to a heading of it', () => {
    for (const file of MARKDOWN) {
      for (const target of links(file)) {
        const [path = '', anchor] = target.split('#');
        const to = path === '' ? file : join(dirname(file), path);
        expect(existsSync(to), `${relative(ROOT, file)}: ${target}`).toBe(true);
        if (anchor !== undefined) expect(headings(to).map(slug), `${relative(ROOT, file)}: ${target}`).toContain(anchor);
      }
    }
  });

  it('where nsjail\'s error and doctor send users, the section exists', () => {
    const m = /^(docs\/[\w-]+\.md), section "([^"]+)"$/.exec(NSJAIL_INSTALL_DOC);
    expect(m, NSJAIL_INSTALL_DOC).not.toBeNull();
    expect(headings(join(ROOT, m?.[1] ?? ''))).toContain(m?.[2]);
    const doctor = readFileSync(join(ROOT, 'src/doctor/checks.ts'), 'utf8');
    expect(doctor).toContain(`(${m?.[1]}, "${m?.[2]}")`);
  });

  it('every docs/ page the source names exists', () => {
    const named = new Set<string>();
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('.ts')) for (const m of readFileSync(join(dir, e.name), 'utf8').matchAll(/docs\/[\w-]+\.md/g)) named.add(m[0]);
      }
    };
    walk(join(ROOT, 'src'));
    expect(named.size).toBeGreaterThan(3);
    for (const page of named) expect(existsSync(join(ROOT, page)), page).toBe(true);
  });
});
