/**
 * The exported objects checked against the Kubernetes API's OpenAPI
 * schemas (kubernetes-models, which validates each model at run time), so
 * that what isolate writes is what the API server accepts: a field of the
 * wrong type, a missing required field, an enum value the API does not know.
 * The models' TypeScript types already hold the renderer (pod.ts, egress.ts,
 * render.ts) to the API's field names at compile time. Pure.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { IsolateError } from '../../errors.js';
import type { K8sObject } from './render.js';

/** Each kind the export writes, with the model that checks it. */
const MODELS: Readonly<Record<string, (data: never) => { validate(): void }>> = {
  'batch/v1/Job': (d) => new Job(d),
  'apps/v1/Deployment': (d) => new Deployment(d),
  'networking.k8s.io/v1/NetworkPolicy': (d) => new NetworkPolicy(d),
  'v1/ConfigMap': (d) => new ConfigMap(d),
  'v1/Service': (d) => new Service(d),
};

/** What is wrong with each object, `Kind name: message`; empty when the API's schemas accept them all. */
export function k8sProblems(objects: readonly K8sObject[]): string[] {
  return objects.flatMap((o) => {
    const where = `${o.kind} ${o.metadata?.name ?? '(no name)'}`;
    const model = MODELS[`${o.apiVersion}/${o.kind}`];
    if (model === undefined) return [`${where}: ${o.apiVersion} ${o.kind} is not a kind isolate checks`];
    try {
      model(structuredClone(o) as never).validate();
      return [];
    } catch (e: unknown) {
      return [`${where}: ${e instanceof Error ? e.message : String(e)}`];
    }
  });
}

/** Refuse (E_INTERNAL: a bug in the renderer) objects the API would refuse. */
export function assertValidK8s(objects: readonly K8sObject[]): void {
  const problems = k8sProblems(objects);
  if (problems.length > 0) {
    throw new IsolateError('E_INTERNAL', 'the Kubernetes objects do not match the API schemas; nothing was written', { detail: problems.join('\n') });
  }
}
