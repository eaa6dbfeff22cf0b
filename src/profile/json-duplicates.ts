/**
 * JSON.parse keeps the last of two equal keys in an object: `{"mode":
 * "none", "mode": "host"}` reads as host while a reviewer sees none. This
 * finds the first key that repeats within one object, in text JSON.parse
 * has already accepted (so it need not handle malformed input).
 */
export function duplicateJsonKey(text: string): { key: string; line: number } | undefined {
  // One set of keys per open object; null for an open array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') {
      open.push(c === '{' ? new Set() : null);
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      open.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = open.at(-1) instanceof Set;
    } else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = open.at(-1);
      if (expectKey && keys instanceof Set) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return { key, line: text.slice(0, i).split('\n').length };
        keys.add(key);
        expectKey = false;
      }
      i = end;
    }
  }
  return undefined;
}
