// Replicas, workers and resource requests. memoryProfile 'small' is the single 15 GB
// node with the settings GitLab documents for small installs (the chart's
// values-gke-minimum/minikube-minimum examples and the webservice docs): one replica of each
// service, Puma with 2 workers, Sidekiq with 5 threads, small requests, KAS and
// Pages off, bootsnap off. Anything config sets explicitly wins over the profile.
import { mergeValues, type HelmValues } from "../values";
import type { ChartSizing, DeploymentScale, MemoryProfile, ResourceSettings } from "./model";

interface Profile {
  readonly webservice: DeploymentScale & { readonly workers?: number };
  readonly sidekiq: DeploymentScale & { readonly concurrency?: number };
  readonly values: HelmValues;
}

const SMALL: Profile = {
  webservice: { minReplicas: 1, maxReplicas: 1, workers: 2, resources: { cpu: "100m", memory: "900M", memoryLimit: "2G" } },
  sidekiq: { minReplicas: 1, maxReplicas: 1, concurrency: 5, resources: { cpu: "50m", memory: "625M", memoryLimit: "1.5G" } },
  values: {
    global: { kas: { enabled: false }, pages: { enabled: false }, rails: { bootsnap: { enabled: false } } },
    gitlab: {
      webservice: { workhorse: { resources: { requests: { cpu: "10m", memory: "10M" }, limits: { memory: "100M" } } } },
      "gitlab-shell": { minReplicas: 1, maxReplicas: 1 },
    },
    registry: { hpa: { minReplicas: 1, maxReplicas: 1 } },
    "nginx-ingress": { controller: { replicaCount: 1, minAvailable: 0 } },
  },
};

const STANDARD: Profile = { webservice: {}, sidekiq: {}, values: {} };

export const PROFILES: Readonly<Record<MemoryProfile, Profile>> = { small: SMALL, standard: STANDARD };

/**
 * PodDisruptionBudgets (the chart makes one per deployment from maxUnavailable): a node drain
 * or cluster upgrade takes at most one pod of each at a time. With one replica it still lets
 * the drain proceed; with several, the others keep serving. The chart's default, said here.
 */
const DISRUPTION: HelmValues = {
  gitlab: { webservice: { maxUnavailable: 1 }, sidekiq: { maxUnavailable: 1 }, "gitlab-shell": { maxUnavailable: 1 } },
  registry: { maxUnavailable: 1 },
};

function resources(r: ResourceSettings | undefined): HelmValues | undefined {
  if (!r || (r.cpu === undefined && r.memory === undefined && r.memoryLimit === undefined)) return undefined;
  const requests = { ...(r.cpu ? { cpu: r.cpu } : {}), ...(r.memory ? { memory: r.memory } : {}) };
  return { ...(Object.keys(requests).length ? { requests } : {}), ...(r.memoryLimit ? { limits: { memory: r.memoryLimit } } : {}) };
}

/** Config over profile, field by field (resources too). */
function scale<T extends DeploymentScale>(profile: T, config: T | undefined): T {
  return { ...profile, ...config, resources: { ...profile.resources, ...config?.resources } };
}

export function sizingValues(s: ChartSizing): HelmValues {
  const profile = PROFILES[s.memoryProfile];
  const web = scale(profile.webservice, s.webservice);
  const sidekiq = scale(profile.sidekiq, s.sidekiq);
  return mergeValues(profile.values, DISRUPTION, {
    gitlab: {
      webservice: { minReplicas: web.minReplicas, maxReplicas: web.maxReplicas, workerProcesses: web.workers, resources: resources(web.resources) },
      sidekiq: {
        minReplicas: sidekiq.minReplicas,
        maxReplicas: sidekiq.maxReplicas,
        concurrency: sidekiq.concurrency,
        resources: resources(sidekiq.resources),
      },
    },
  });
}

/** The low-memory PostgreSQL tuning for the bundled database on a small node. */
export function bundledDatabaseTuning(profile: MemoryProfile): string | undefined {
  return profile === "small" ? "shared_buffers = 64MB\nmax_worker_processes = 4\n" : undefined;
}
