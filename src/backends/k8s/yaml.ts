/**
 * The export as one multi-document YAML file, written by the yaml library
 * (never by string templates: names, paths, the command and the environment
 * come from the profile and the caller). The first document carries, as
 * comments, where the seccomp profile must be on every node and what the
 * rendering leaves out. Pure.
 *
 * kubectl reads YAML 1.1 (go-yaml), where U+0085 (NEL), U+2028 and U+2029
 * end a line as `\n` does; the yaml library writes them as they are, in a
 * plain, a block or a quoted scalar alike. A value holding one would start
 * a line of its own there, and a key on it (`? privileged` `: true`) would
 * be part of the object kubectl applies. So every string with such a
 * character, or another control character, is written double-quoted with
 * each of them escaped (`\N`, `\L`, `\P`, `\xHH`, which YAML 1.1 and 1.2
 * read alike), and the comments are escaped as messages are.
 */
import { Document, Scalar, visit } from 'yaml';
import { oneLine } from '../../errors.js';
import { KUBELET_SECCOMP_DIR, type K8sExport } from './render.js';

/** Characters a YAML 1.1 reader takes as a line break, and the other controls a double-quoted scalar must escape (not \t or \n). */
// eslint-disable-next-line no-control-regex -- control characters are what this finds, to escape them
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
const RAW = /[\u007f-\u009f\u2028\u2029]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\u0085': '\\N', '\u2028': '\\L', '\u2029': '\\P' };

export function k8sYaml(exp: K8sExport, title: string): string {
  const header = [
    title,
    ...(exp.seccompFile === undefined ? [] : [`seccomp: put ${exp.seccompFile.path} on every node, at ${KUBELET_SECCOMP_DIR}/${exp.seccompFile.path}`]),
    ...exp.notes.map((n) => `note: ${n}`),
  ];
  return exp.objects
    .map((o, i) => {
      const doc = new Document(o, { aliasDuplicateObjects: false });
      if (i === 0) doc.commentBefore = header.map((l) => ` ${oneLine(l)}`).join('\n');
      quoteUnsafe(doc);
      // Only double-quoted scalars hold these characters now (the comments have none); the library escapes C0 itself.
      return doc.toString({ lineWidth: 0 }).replace(RAW, (c) => ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16)}`);
    })
    .join('---\n');
}

/** Every string scalar (key or value) with an unsafe character is written double-quoted. */
function quoteUnsafe(doc: Document): void {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && UNSAFE.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
}
