/**
 * `~user/` in a git configuration: the homes of users a directory service
 * knows (getent) are looked up within one time budget per search, so a
 * directory service that is down cannot stall a run; answers are kept for the
 * process (the MCP server runs many searches).
 */
import { describe, expect, it } from 'vitest';
import { hostGitPlaces } from '../../src/host/git-paths.js';
import { rememberingLookup, type DirectoryLookup } from '../../src/host/user-homes.js';

/** Block this thread for `ms`, as a getent waiting on a directory service does. */
const block = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, ms));

/** A directory service that is down: every look-up waits its whole time, and gets no answer. */
function downService(): { lookup: DirectoryLookup; asked: string[]; waits: number[] } {
  const asked: string[] = [];
  const waits: number[] = [];
  return {
    asked,
    waits,
    lookup: (name, timeoutMs) => {
      asked.push(name);
      waits.push(timeoutMs);
      block(timeoutMs);
      return undefined;
    },
  };
}

describe("users' homes from a directory service", () => {
  it('a directory service that is down costs one search its budget, not a time-out per name', () => {
    const down = downService();
    const places = hostGitPlaces({}, { lookup: down.lookup, budgetMs: 300 });
    const start = Date.now();
    for (let i = 0; i < 16; i++) expect(places.userHome(`no-such-user-${i}`)).toBeUndefined();
    const took = Date.now() - start;
    expect(took).toBeLessThan(1_000);
    // Each look-up waited at most what was left of the budget, and none was asked once it was spent.
    expect(down.waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(300);
    expect(down.asked.length).toBeLessThan(16);
  });

  it('the default budget of a search is 2 s across all its look-ups', () => {
    const down = downService();
    const places = hostGitPlaces({}, { lookup: (name, timeoutMs) => down.lookup(name, Math.min(timeoutMs, 10)) });
    for (let i = 0; i < 3; i++) places.userHome(`no-such-user-${i}`);
    expect(down.waits[0]).toBeLessThanOrEqual(2_000);
  });

  it('answers are kept for the process: a later search asks the directory service only about names it could not answer', () => {
    let calls = 0;
    const lookup = rememberingLookup((name) => {
      calls += 1;
      if (name === 'dana') return '/home/dana';
      if (name === 'slow') return undefined; // no answer in time: asked again later
      return null;
    });
    const first = hostGitPlaces({}, { lookup });
    expect(first.userHome('dana')).toBe('/home/dana');
    expect(first.userHome('nobody-known')).toBeUndefined();
    expect(first.userHome('slow')).toBeUndefined();
    expect(calls).toBe(3);
    const second = hostGitPlaces({}, { lookup });
    expect(second.userHome('dana')).toBe('/home/dana');
    expect(second.userHome('nobody-known')).toBeUndefined();
    expect(second.userHome('slow')).toBeUndefined();
    expect(calls).toBe(4);
  });

  it('a relative home from the directory service is none', () => {
    const places = hostGitPlaces({}, { lookup: () => 'relative/home' });
    expect(places.userHome('someone-remote')).toBeUndefined();
  });
});
