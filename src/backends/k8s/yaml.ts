/**
 * The export as one multi-document YAML file, written by the yaml library
 * (never by string templates: names, paths, the command and the environment
 * come from the profile and the caller). The first document carries, as
 * comments, where the seccomp profile must be on every node and what the
 * rendering leaves out. Pure.
 */
import { Document } from 'yaml';
import { KUBELET_SECCOMP_DIR, type K8sExport } from './render.js';

export function k8sYaml(exp: K8sExport, title: string): string {
  const header = [
    title,
    ...(exp.seccompFile === undefined ? [] : [`seccomp: put ${exp.seccompFile.path} on every node, at ${KUBELET_SECCOMP_DIR}/${exp.seccompFile.path}`]),
    ...exp.notes.map((n) => `note: ${n}`),
  ];
  return exp.objects
    .map((o, i) => {
      const doc = new Document(o, { aliasDuplicateObjects: false });
      if (i === 0) doc.commentBefore = header.map((l) => ` ${l}`).join('\n');
      return doc.toString({ lineWidth: 0 });
    })
    .join('---\n');
}
