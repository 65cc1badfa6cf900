import type { Deployment } from 'kubernetes-types/apps/v1';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import type { Job } from 'kubernetes-types/batch/v1';
import type { ConfigMap, Container, EnvFromSource, PodSpec, Secret, Service } from 'kubernetes-types/core/v1';
import type { ObjectMeta } from 'kubernetes-types/meta/v1';
import type { Ingress } from 'kubernetes-types/networking/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { RedisConfig } from '../../src/core/config/redis.config';
import { QUEUE_NAMES } from '../../src/core/queue/job-catalog';
import { API_NODE_FLAGS, WORKER_NODE_FLAGS } from '../../src/node-flags';
import { allEnv, envText } from './env';

/** A rendered file: its name under deploy/k8s/ and the objects in it. */
export interface ManifestFile {
  file: string;
  objects: object[];
}

const APP = 'conflux';
const IMAGE = 'conflux:latest';
const CONFIG = `${APP}-config`;
const SECRETS = `${APP}-secrets`;
const API_PORT = 3000;
const WORKER_METRICS_PORT = 9464;

/**
 * Worker Deployments, one per queue group (each sets WORKER_QUEUES): the engine queue, whose depth follows the
 * runs in flight, scales on its own; the other queues share a small background group.
 */
const WORKER_GROUPS: Array<{ name: string; queues: string[]; replicas: number; cpu: string }> = [
  { name: 'engine', queues: ['engine'], replicas: 2, cpu: '500m' },
  { name: 'background', queues: QUEUE_NAMES.filter((queue) => queue !== 'engine'), replicas: 1, cpu: '250m' },
];

/** Values the cluster deployment sets instead of the development defaults. */
const OVERRIDES: Record<string, string> = {
  NODE_ENV: 'production',
  // The migration Job applies migrations before the replicas roll.
  MIGRATIONS_RUN: 'false',
  WORKER_METRICS_PORT: String(WORKER_METRICS_PORT),
};

/** SIGTERM waits WORKER_SHUTDOWN_GRACE_MS for active jobs; Kubernetes must wait longer before SIGKILL. */
const GRACE_SECONDS = Math.ceil(new RedisConfig().WORKER_SHUTDOWN_GRACE_MS / 1000) + 15;

function meta(name: string, component: string, extra: ObjectMeta = {}): ObjectMeta {
  return {
    name,
    labels: { 'app.kubernetes.io/name': APP, 'app.kubernetes.io/component': component },
    ...extra,
  };
}

function selector(component: string): Record<string, string> {
  return { 'app.kubernetes.io/name': APP, 'app.kubernetes.io/component': component };
}

const envFrom: EnvFromSource[] = [{ configMapRef: { name: CONFIG } }, { secretRef: { name: SECRETS } }];

function container(name: string, command: string[], extra: Partial<Container>): Container {
  return {
    name,
    image: IMAGE,
    imagePullPolicy: 'IfNotPresent',
    command,
    envFrom,
    securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: false },
    ...extra,
  };
}

function podSpec(containers: Container[], extra: Partial<PodSpec> = {}): PodSpec {
  return { terminationGracePeriodSeconds: GRACE_SECONDS, containers, ...extra };
}

function configMap(): ConfigMap {
  const data: Record<string, string> = {};
  for (const variable of allEnv().filter((entry) => !entry.secret))
    data[variable.name] = OVERRIDES[variable.name] ?? envText(variable.fallback);
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(CONFIG, 'config'), data };
}

/** Placeholders: an overlay (or `kubectl create secret`) supplies the values; empty reads as unset. */
function secret(): Secret {
  const stringData: Record<string, string> = {};
  for (const variable of allEnv().filter((entry) => entry.secret)) stringData[variable.name] = '';
  return { apiVersion: 'v1', kind: 'Secret', metadata: meta(SECRETS, 'config'), type: 'Opaque', stringData };
}

function apiDeployment(): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(`${APP}-api`, 'api'),
    spec: {
      replicas: 2,
      selector: { matchLabels: selector('api') },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: selector('api'),
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(API_PORT) },
        },
        spec: podSpec([
          container('api', ['node', ...API_NODE_FLAGS, 'dist/main.js'], {
            ports: [{ name: 'http', containerPort: API_PORT }],
            // Readiness is the health endpoint: 503 while the database or Redis is unreachable.
            readinessProbe: {
              httpGet: { path: '/health', port: 'http' },
              periodSeconds: 5,
              failureThreshold: 2,
            },
            // Liveness only asks whether the process still serves: a database outage must not restart it.
            livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10, failureThreshold: 6 },
            startupProbe: { tcpSocket: { port: 'http' }, periodSeconds: 2, failureThreshold: 60 },
            // Lets the endpoints controller take the pod out of the Service before SIGTERM stops the listener.
            lifecycle: { preStop: { sleep: { seconds: 5 } } },
            resources: { requests: { cpu: '250m', memory: '384Mi' }, limits: { memory: '1Gi' } },
          }),
        ]),
      },
    },
  };
}

function workerDeployment(group: (typeof WORKER_GROUPS)[number]): Deployment {
  const component = `worker-${group.name}`;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(`${APP}-${component}`, component),
    spec: {
      replicas: group.replicas,
      selector: { matchLabels: selector(component) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { ...selector(component), 'conflux.dev/role': 'worker' } },
        spec: podSpec([
          container('worker', ['node', ...WORKER_NODE_FLAGS, 'dist/worker.js'], {
            env: [{ name: 'WORKER_QUEUES', value: group.queues.join(',') }],
            ports: [{ name: 'metrics', containerPort: WORKER_METRICS_PORT }],
            readinessProbe: { tcpSocket: { port: 'metrics' }, periodSeconds: 10 },
            livenessProbe: { tcpSocket: { port: 'metrics' }, periodSeconds: 10, failureThreshold: 6 },
            startupProbe: { tcpSocket: { port: 'metrics' }, periodSeconds: 2, failureThreshold: 60 },
            resources: { requests: { cpu: group.cpu, memory: '384Mi' }, limits: { memory: '1Gi' } },
          }),
        ]),
      },
    },
  };
}

/** Applies migrations once per rollout (`kubectl apply -k` re-creates it: delete the old Job first). */
function migrationJob(): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(`${APP}-migrate`, 'migrate'),
    spec: {
      backoffLimit: 3,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels: selector('migrate') },
        spec: {
          restartPolicy: 'OnFailure',
          containers: [
            container('migrate', ['node', 'dist/migrate.js'], {
              resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
            }),
          ],
        },
      },
    },
  };
}

function apiService(): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(`${APP}-api`, 'api'),
    spec: { selector: selector('api'), ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  };
}

function workerMetricsService(): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(`${APP}-worker-metrics`, 'worker-metrics'),
    spec: {
      clusterIP: 'None',
      selector: { 'app.kubernetes.io/name': APP, 'conflux.dev/role': 'worker' },
      ports: [{ name: 'metrics', port: WORKER_METRICS_PORT, targetPort: 'metrics' }],
    },
  };
}

/** WebSocket-ready: long read/send timeouts for /ws/realtime (ingress-nginx upgrades connections by itself). */
function ingress(): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(`${APP}-api`, 'api', {
      annotations: {
        'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
        'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
        'nginx.ingress.kubernetes.io/proxy-body-size': '50m',
      },
    }),
    spec: {
      ingressClassName: 'nginx',
      rules: [
        {
          host: 'conflux.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: `${APP}-api`, port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    },
  };
}

function disruptionBudget(component: string): PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(`${APP}-${component}`, component),
    spec: { maxUnavailable: 1, selector: { matchLabels: selector(component) } },
  };
}

/** CPU fallback for the API (the workers scale on queue depth, see autoscaling/). */
function apiAutoscaler(): HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(`${APP}-api`, 'api'),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `${APP}-api` },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ],
    },
  };
}

// Custom resources (KEDA, Prometheus Operator) are not in kubernetes-types: their fields are typed here.
interface ServiceMonitor {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'ServiceMonitor';
  metadata: ObjectMeta;
  spec: {
    selector: { matchLabels: Record<string, string> };
    endpoints: Array<{ port: string; path: string; interval: string }>;
  };
}

interface ScaledObject {
  apiVersion: 'keda.sh/v1alpha1';
  kind: 'ScaledObject';
  metadata: ObjectMeta;
  spec: {
    scaleTargetRef: { name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    cooldownPeriod: number;
    triggers: Array<{ type: 'prometheus'; metadata: Record<string, string> }>;
  };
}

function serviceMonitor(name: string, component: string, port: string): ServiceMonitor {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: meta(`${APP}-${name}`, name),
    spec: {
      selector: { matchLabels: selector(component) },
      endpoints: [{ port, path: '/metrics', interval: '15s' }],
    },
  };
}

/** Engine workers follow the engine queue's backlog (`conflux_queue_jobs`, which every process exports). */
function engineScaledObject(): ScaledObject {
  const concurrency = new RedisConfig().WORKER_CONCURRENCY;
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: meta(`${APP}-worker-engine`, 'worker-engine'),
    spec: {
      scaleTargetRef: { name: `${APP}-worker-engine` },
      minReplicaCount: 2,
      maxReplicaCount: 20,
      cooldownPeriod: 120,
      triggers: [
        {
          type: 'prometheus',
          metadata: {
            serverAddress: 'http://prometheus-operated.monitoring.svc:9090',
            query: 'max(conflux_queue_jobs{queue="engine",state=~"waiting|active|prioritized"})',
            // One replica per WORKER_CONCURRENCY jobs waiting or running.
            threshold: String(concurrency),
          },
        },
      ],
    },
  };
}

/** Every file under deploy/k8s/, in the order kustomize applies them. */
export function manifests(): ManifestFile[] {
  const core: ManifestFile[] = [
    { file: 'config.yaml', objects: [configMap(), secret()] },
    { file: 'migrate-job.yaml', objects: [migrationJob()] },
    {
      file: 'api.yaml',
      objects: [apiDeployment(), apiService(), ingress(), disruptionBudget('api'), apiAutoscaler()],
    },
    {
      file: 'workers.yaml',
      objects: [
        ...WORKER_GROUPS.flatMap((group) => [
          workerDeployment(group),
          disruptionBudget(`worker-${group.name}`),
        ]),
        workerMetricsService(),
      ],
    },
  ];
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    labels: [{ pairs: { 'app.kubernetes.io/part-of': APP } }],
    images: [{ name: 'conflux', newName: 'conflux', newTag: 'latest' }],
    resources: core.map((entry) => entry.file),
  };
  const optional = (dir: string, file: string, objects: object[]): ManifestFile[] => [
    { file: `${dir}/${file}`, objects },
    {
      file: `${dir}/kustomization.yaml`,
      objects: [{ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [file] }],
    },
  ];
  return [
    ...core,
    { file: 'kustomization.yaml', objects: [kustomization] },
    // Need the Prometheus Operator / KEDA CRDs: applied separately (`kubectl apply -k deploy/k8s/monitoring`).
    ...optional('monitoring', 'service-monitors.yaml', [
      serviceMonitor('api', 'api', 'http'),
      serviceMonitor('workers', 'worker-metrics', 'metrics'),
    ]),
    ...optional('autoscaling', 'keda-scaled-object.yaml', [engineScaledObject()]),
  ];
}
