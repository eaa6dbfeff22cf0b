/**
 * A sandbox's network in Kubernetes. `none`: a NetworkPolicy that lets the
 * Job's Pod reach nothing and be reached by nothing. `filtered`: the same
 * policy, except that the Pod may open TCP connections to the egress
 * proxy's port, and nothing else (no DNS: the proxy resolves names); the
 * proxy is `isolate proxy` in a Pod of its own (containers of one Pod share
 * its network, so only separate Pods can be told apart by a policy), a
 * Deployment behind a Service, with the profile's domain rules in a
 * ConfigMap. `host`: no policy. Enforced only where the cluster's network
 * plugin enforces NetworkPolicy (docs/kubernetes.md). Pure.
 */
import { stringify } from 'yaml';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyEgressRule } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyEgressRule';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IService } from 'kubernetes-models/v1/Service';
import type { NetworkPolicy } from '../../profile/types.js';
import { PROXY_PORT, proxyEnvironment } from '../forwarder.js';
import { containerSecurity, podSecurity } from './pod.js';

/** Labels that select each role's Pods. */
export const ROLE_LABEL = 'isolate.dev/role';
export const RUN_LABEL = 'isolate.dev/run';
const PROFILE_KEY = 'proxy.yaml';
const RULES_DIR = '/etc/isolate';
/** How long the proxy lets open connections finish after SIGTERM: below the Pod's grace period of 30 s. */
const PROXY_GRACE = '20s';

export function selector(name: string, role: 'sandbox' | 'proxy'): Record<string, string> {
  return { [RUN_LABEL]: name, [ROLE_LABEL]: role };
}

/** The Service's name, and the address the sandbox's proxy variables hold (from the Service's environment variables: no DNS lookup). */
export function proxyService(name: string): { name: string; authority: string } {
  const service = `${name}-proxy`;
  const env = service.toUpperCase().replace(/-/g, '_');
  return { name: service, authority: `$(${env}_SERVICE_HOST):$(${env}_SERVICE_PORT)` };
}

/** The proxy variables of a filtered sandbox in the Pod, pointing at the Service. */
export function podProxyEnvironment(name: string): Record<string, string> {
  return proxyEnvironment(proxyService(name).authority);
}

/** The sandbox's NetworkPolicy: no ingress; egress only to the proxy (filtered) or none at all. */
export function sandboxPolicy(name: string, network: NetworkPolicy): INetworkPolicy {
  const toProxy: INetworkPolicyEgressRule = { to: [{ podSelector: { matchLabels: selector(name, 'proxy') } }], ports: [{ protocol: 'TCP', port: PROXY_PORT }] };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `${name}-sandbox`, labels: selector(name, 'sandbox') },
    spec: {
      podSelector: { matchLabels: selector(name, 'sandbox') },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: network.mode === 'filtered' ? [toProxy] : [],
    },
  };
}

/** The proxy's NetworkPolicy: reached only by the sandbox's Pods, on the proxy port; its own egress is its rules' business. */
export function proxyPolicy(name: string): INetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `${name}-proxy`, labels: selector(name, 'proxy') },
    spec: {
      podSelector: { matchLabels: selector(name, 'proxy') },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: selector(name, 'sandbox') } }], ports: [{ protocol: 'TCP', port: PROXY_PORT }] }],
    },
  };
}

/** The profile `isolate proxy` reads: only the domain rules. */
export function proxyRules(name: string, network: NetworkPolicy): IConfigMap {
  const profile = { description: `egress rules of ${name}`, network: { mode: 'filtered', allow: [...network.allow], deny: [...network.deny] } };
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-proxy-rules`, labels: selector(name, 'proxy') }, data: { [PROFILE_KEY]: stringify(profile) } };
}

export function proxyDeployment(name: string, image: string, uid: number): IDeployment {
  const labels = selector(name, 'proxy');
  const argv = ['isolate', 'proxy', '--listen', `0.0.0.0:${PROXY_PORT}`, '--allow-remote', '--grace', PROXY_GRACE, '-p', `${RULES_DIR}/${PROFILE_KEY}`];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `${name}-proxy`, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurity(uid, { type: 'RuntimeDefault' }),
          containers: [
            {
              name: 'proxy',
              image,
              command: argv,
              env: [
                { name: 'HOME', value: '/tmp' },
                { name: 'XDG_STATE_HOME', value: '/tmp/state' },
              ],
              ports: [{ name: 'proxy', containerPort: PROXY_PORT, protocol: 'TCP' }],
              readinessProbe: { tcpSocket: { port: PROXY_PORT } },
              securityContext: containerSecurity(),
              volumeMounts: [
                { name: 'rules', mountPath: RULES_DIR, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'rules', configMap: { name: `${name}-proxy-rules` } },
            { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  };
}

export function proxyServiceObject(name: string): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: proxyService(name).name, labels: selector(name, 'proxy') },
    spec: { type: 'ClusterIP', selector: selector(name, 'proxy'), ports: [{ name: 'proxy', port: PROXY_PORT, targetPort: PROXY_PORT, protocol: 'TCP' }] },
  };
}
