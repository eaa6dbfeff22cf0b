/**
 * `isolate export --format k8s`: the objects as one YAML file, checked
 * against the Kubernetes API's schemas, and the Localhost seccomp profile
 * under `seccomp/`, laid out as the kubelet's seccomp directory wants it
 * (copy `seccomp/` to /var/lib/kubelet/seccomp/ on every node). Pure.
 */
import type { ExportEntry, Exporter } from '../export.js';
import { k8sExport, type K8sOptions } from './render.js';
import { assertValidK8s } from './validate.js';
import { k8sYaml } from './yaml.js';

export const K8S_FILE = 'kubernetes.yaml';
const SECCOMP_DIR = 'seccomp';
/** The image the Dockerfile at the top of the repository builds (`docker build -t isolate:latest .`). */
export const DEFAULT_K8S_IMAGE = 'isolate:latest';

export const K8S_DEFAULTS: K8sOptions = { name: 'isolate-run', image: DEFAULT_K8S_IMAGE, proxyImage: DEFAULT_K8S_IMAGE, seccomp: 'localhost', uid: 1000 };

export const k8sExporter: Exporter = {
  format: 'k8s',
  needsMountPoints: false,
  render(policy, command, host, settings) {
    const exp = k8sExport(policy, command, host.env, { ...K8S_DEFAULTS, ...settings?.k8s });
    assertValidK8s(exp.objects);
    const title = `isolate export --format k8s -p ${policy.profile.name}`;
    const seccomp: ExportEntry[] =
      exp.seccompFile === undefined
        ? []
        : [
            ...dirsOf(exp.seccompFile.path).map((path): ExportEntry => ({ kind: 'dir', path: `${SECCOMP_DIR}/${path}` })),
            { kind: 'file', path: `${SECCOMP_DIR}/${exp.seccompFile.path}`, content: exp.seccompFile.json },
          ];
    const entries: ExportEntry[] = [{ kind: 'file', path: K8S_FILE, content: k8sYaml(exp, title) }, ...(seccomp.length > 0 ? [{ kind: 'dir' as const, path: SECCOMP_DIR }, ...seccomp] : [])];
    const written = seccomp.length > 0 ? [`the seccomp profile is ${SECCOMP_DIR}/${exp.seccompFile?.path ?? ''} with --out (copy ${SECCOMP_DIR}/ to /var/lib/kubelet/seccomp/ on every node)`] : [];
    return { format: 'k8s', entries, main: K8S_FILE, notes: [...exp.notes, ...written, ...(host.gitConfigs ?? []).map((g) => gitConfigImageNote(g.path))] };
  },
};

/**
 * A git configuration file here that holds a credential: the Pod mounts no
 * file of this host, so it reads the file only if the operator puts it in
 * the image or a volume; a checkout copied whole would carry the token.
 */
function gitConfigImageNote(path: string): string {
  return `${path} holds a credential (a token in an extraHeader or a remote's URL): the Pod mounts no file of this host, but an image or volume made from this checkout would carry it; remove it first (git config --unset-all 'http.<url>.extraheader', actions/checkout: persist-credentials: false) or leave .git out`;
}

/** `a/b/c.json` -> ['a', 'a/b']. */
function dirsOf(path: string): string[] {
  const parts = path.split('/').slice(0, -1);
  return parts.map((_p, i) => parts.slice(0, i + 1).join('/'));
}
