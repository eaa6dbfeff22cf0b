/**
 * `isolate export --format k8s`: one sandboxed run as Kubernetes objects,
 * in the order they are applied. A Job whose one Pod runs the command with
 * the sandbox's settings (pod.ts); for network `none` and `filtered` a
 * NetworkPolicy, and for `filtered` the egress proxy (egress.ts). The
 * syscall filter is the OCI seccomp JSON of the same rules (seccomp/oci.ts)
 * as the Pod's Localhost profile, a file the operator puts on every node
 * (docs/kubernetes.md), or the runtime's default profile when asked (weaker).
 * What Kubernetes cannot express is listed in `notes`, never dropped
 * silently; what would widen the sandbox is refused. Pure: the caller
 * writes the files, and checks the objects against the API's schemas
 * (validate.ts).
 */
import { createHash } from 'node:crypto';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { IsolateError } from '../../errors.js';
import { computeEnvironment } from '../../profile/environment.js';
import type { Policy } from '../../profile/types.js';
import { ociSeccomp, type OciSeccomp } from '../../seccomp/oci.js';
import { resolveSeccomp } from '../../seccomp/presets.js';
import { SECCOMP_ARCHES } from '../../seccomp/syscalls.js';
import { BYPASS_VARIABLES } from '../forwarder.js';
import { setupOps } from '../setup-ops.js';
import { podProxyEnvironment, proxyDeployment, proxyPolicy, proxyRules, proxyServiceObject, sandboxPolicy, selector } from './egress.js';
import { EMPTY_KEY, containerSecurity, opVolumes, podSecurity, resources, type SeccompChoice } from './pod.js';
import { k8sNotes } from './notes.js';

export interface K8sOptions {
  /** The prefix of every object's name: a DNS label of at most 40 characters. */
  name: string;
  /** The image the command runs in: it must hold the command and what it needs. */
  image: string;
  /** The image of the egress proxy: one with isolate installed (the Dockerfile). */
  proxyImage: string;
  /** Localhost (default): the exported seccomp JSON on the nodes. RuntimeDefault: the container runtime's own, weaker profile. */
  seccomp: 'localhost' | 'runtime-default';
  /** The non-root user (and group) the Pods run as. */
  uid: number;
}

export type K8sObject = { apiVersion: string; kind: string; metadata?: { name?: string } };

export interface K8sExport {
  objects: K8sObject[];
  /** The Localhost profile: `path` relative to the kubelet's seccomp directory (/var/lib/kubelet/seccomp). */
  seccompFile?: { path: string; json: string };
  /** What the rendering leaves out or weakens, one line each. */
  notes: string[];
}

const NAME = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;
/** A Pod's hostname: an RFC 1123 label. */
const HOSTNAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Where the kubelet looks for Localhost profiles (its --root-dir, by default /var/lib/kubelet). */
export const KUBELET_SECCOMP_DIR = '/var/lib/kubelet/seccomp';

export function k8sExport(policy: Policy, command: readonly string[], callerEnv: Readonly<Record<string, string | undefined>>, o: K8sOptions): K8sExport {
  refuseUnsupported(policy, command, o);
  const seccomp = seccompFor(policy, o);
  const hiddenFiles = `${o.name}-hidden-files`;
  const ops = setupOps(policy, { protect: [], kernelPaths: [] });
  const { volumes, mounts } = opVolumes(ops, hiddenFiles);
  const filtered = policy.network.mode === 'filtered';
  const job: IJob = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: o.name, labels: selector(o.name, 'sandbox') },
    spec: {
      backoffLimit: 0,
      ...(policy.limits.timeoutMs === undefined ? {} : { activeDeadlineSeconds: Math.ceil(policy.limits.timeoutMs / 1000) }),
      template: {
        metadata: { labels: selector(o.name, 'sandbox') },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          // The proxy's address reaches the Pod in the Service's variables (no DNS lookup); otherwise no variable of any Service.
          enableServiceLinks: filtered,
          hostname: policy.process.hostname,
          terminationGracePeriodSeconds: Math.ceil(policy.limits.killAfterMs / 1000),
          securityContext: podSecurity(o.uid, seccomp.choice),
          containers: [
            {
              name: 'sandbox',
              image: o.image,
              command: command.map(literal),
              workingDir: policy.process.cwd,
              env: podEnv(policy, callerEnv, o.name),
              resources: resources(policy.limits),
              securityContext: containerSecurity(),
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
  const hidden: IConfigMap[] = volumes.some((v) => v.configMap?.name === hiddenFiles)
    ? [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: hiddenFiles, labels: selector(o.name, 'sandbox') }, data: { [EMPTY_KEY]: '' } }]
    : [];
  const proxy = filtered ? [proxyRules(o.name, policy.network), proxyDeployment(o.name, o.proxyImage, o.uid), proxyServiceObject(o.name), proxyPolicy(o.name)] : [];
  const isolated = policy.network.mode === 'host' ? [] : [sandboxPolicy(o.name, policy.network)];
  return {
    objects: [...hidden, ...proxy, ...isolated, job],
    ...(seccomp.file === undefined ? {} : { seccompFile: seccomp.file }),
    notes: k8sNotes(policy, ops, seccomp.choice.type === 'RuntimeDefault' ? o.seccomp : undefined),
  };
}

function refuseUnsupported(policy: Policy, command: readonly string[], o: K8sOptions): void {
  if (command.length === 0 || command[0] === '') throw new IsolateError('E_COMMAND_EMPTY', 'no command given', { fix: 'isolate export --format k8s [options] -- <command> [args...]' });
  if (!NAME.test(o.name)) {
    throw new IsolateError('E_USAGE', `--name ${JSON.stringify(o.name)}: expected a lower-case DNS label of at most 40 characters (letters, digits, -)`, { fix: 'give --name my-build' });
  }
  if (!(Number.isSafeInteger(o.uid) && o.uid > 0)) throw new IsolateError('E_USAGE', `the Pod's user must be a non-root uid, received ${o.uid}`);
  if (!HOSTNAME.test(policy.process.hostname)) {
    throw new IsolateError('E_BACKEND_UNSUPPORTED', `process.hostname ${JSON.stringify(policy.process.hostname)} is not a Pod hostname (a lower-case RFC 1123 label)`, {
      fix: 'set process.hostname to letters, digits and -, at most 63',
    });
  }
  if ((policy.credentials ?? []).length > 0) {
    throw new IsolateError('E_BACKEND_UNSUPPORTED', 'credentials cannot be exported to Kubernetes: the egress proxy does not serve them (any client of it would get their values)', {
      fix: 'use a profile without credentials, and give the job its secrets another way',
    });
  }
}

/** The Pod's seccomp profile: the rules' OCI JSON as a Localhost profile named by its digest, or RuntimeDefault. */
function seccompFor(policy: Policy, o: K8sOptions): { choice: SeccompChoice; file?: K8sExport['seccompFile'] } {
  const profile: OciSeccomp | undefined = ociSeccomp(resolveSeccomp(policy.syscalls), SECCOMP_ARCHES);
  if (o.seccomp === 'runtime-default' || profile === undefined) return { choice: { type: 'RuntimeDefault' } };
  const json = `${JSON.stringify(profile, null, 2)}\n`;
  const path = `isolate/${o.name}-${createHash('sha256').update(json).digest('hex').slice(0, 12)}.json`;
  return { choice: { type: 'Localhost', localhostProfile: path }, file: { path, json } };
}

/** The environment a run would give the command (the allowlist, the values set), with the proxy's variables for a filtered network. */
function podEnv(policy: Policy, callerEnv: Readonly<Record<string, string | undefined>>, name: string): IEnvVar[] {
  const { env } = computeEnvironment(policy.environment, callerEnv);
  const proxyVars = policy.network.mode === 'filtered' ? podProxyEnvironment(name) : {};
  if (policy.network.mode === 'filtered') for (const v of BYPASS_VARIABLES) delete env[v];
  Object.assign(env, proxyVars);
  return Object.keys(env)
    .sort()
    .map((k) => ({ name: k, value: k in proxyVars ? (env[k] ?? '') : literal(env[k] ?? '') }));
}

/**
 * Kubernetes expands `$(NAME)` in a container's command and environment
 * values; `$$` stands for one `$`. Every `$` of a value that comes from the
 * command or the caller is doubled, so it reaches the command as written.
 */
export function literal(value: string): string {
  return value.replaceAll('$', '$$$$');
}
