// Checks across all files of the config directory: two environments must never share what
// one Terraform state owns. A copied example that was not edited would otherwise share the
// original's state (and overwrite it), answer on its host names (the same Cloudflare
// records), write its buckets or take over its Docker host. Each collision is reported
// once, on the newer of the two files (the copy, usually), naming the other file and the
// field to change.
import type { ConfigProblem } from "./errors";
import type { Environment } from "./load";
import { s3StateKey } from "./state-keys";
import { hostFields } from "./schema/cross-checks";

/** A parsed environment file, with what the checks need to point into it. */
export interface LoadedEnvironment {
  readonly environment: Environment;
  /** Line and column of a field (or of its closest written ancestor). */
  readonly locate: (path: readonly PropertyKey[]) => { line?: number; column?: number };
  /** Modification time: the newer file of a colliding pair gets the problem. */
  readonly mtimeMs: number;
}

/** Something only one environment may have: a state, a host name, a bucket, a Docker host. */
interface Claim {
  /** Identity of the claimed thing; equal keys collide. */
  readonly key: string;
  /** The field that sets it: the one to change. */
  readonly field: string;
  /** How to say what collides, e.g. "Terraform state 's3://b/k'". */
  readonly what: string;
  /** How to fix it. */
  readonly fix: string;
}

const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function stateClaims(env: Environment): Claim[] {
  // Local and GitLab-managed states are named after the environment, which the file name
  // makes unique; an S3 key may be written out, and then copied along.
  if (env.state.backend !== "s3") return [];
  const state = env.state;
  // Both stacks' keys: one environment's second stack (<env>-gitlab) may take another's first.
  return [env.name, `${env.name}-gitlab`].map((stack) => {
    const key = s3StateKey(env.name, stack, state.key);
    return {
      key: `state:s3://${state.bucket}/${key}`,
      field: state.key ? "state.key" : "state.bucket",
      what: `Terraform state s3://${state.bucket}/${key}`,
      fix: `two environments would overwrite each other's state: give this one its own state.key (e.g. gitlab-platform/${env.name}.tfstate)`,
    };
  });
}

function hostClaims(env: Environment): Claim[] {
  return hostFields(env as unknown as Record<string, unknown>).flatMap(({ field, host }) => {
    if (host === undefined) return [];
    const fqdn = `${host}.${env.domain}`;
    return [
      {
        key: `host:${fqdn}`,
        field,
        what: `host name ${fqdn} (a Cloudflare record in zone ${env.dns.zoneId})`,
        fix: "each environment needs its own host names: change this one (its DNS record, certificate and URLs follow)",
      },
    ];
  });
}

function zoneSettingClaims(env: Environment): Claim[] {
  if (env.platform !== "aws" || !env.tls.strictSslMode) return [];
  return [
    {
      key: `zone-ssl:${env.dns.zoneId}`,
      field: "tls.strictSslMode",
      what: `the SSL mode of Cloudflare zone ${env.dns.zoneId}`,
      fix: "a zone has one SSL mode and one environment must own it: set tls.strictSslMode: false here",
    },
  ];
}

function bucketClaims(env: Environment): Claim[] {
  if (env.platform === "kubernetes") return kubernetesBucketClaims(env);
  if (env.platform !== "aws") return [];
  const prefix = env.aws.bucketPrefix ?? `${env.name}-gitlab`;
  const suffixes = [...(env.registry.enabled ? ["registry"] : []), "backups", "runner-cache"];
  return suffixes.map((suffix) => ({
    key: `bucket:${prefix}-${suffix}`,
    field: "aws.bucketPrefix",
    what: `S3 bucket ${prefix}-${suffix}`,
    fix: "bucket names are global and each environment writes its own: set a different aws.bucketPrefix",
  }));
}

/** The chart's buckets share one prefix; the secrets export has a bucket of its own. */
function kubernetesBucketClaims(env: Environment & { platform: "kubernetes" }): Claim[] {
  const prefix = env.objectStorage.bucketPrefix;
  return [
    {
      key: `bucket-prefix:${prefix}`,
      field: "objectStorage.bucketPrefix",
      what: `the buckets ${prefix}-* (artifacts, uploads, registry, backups, …)`,
      fix: "each GitLab needs its own buckets: set a different objectStorage.bucketPrefix",
    },
    {
      key: `bucket:${env.backups.secretsBucket}`,
      field: "backups.secretsBucket",
      what: `bucket ${env.backups.secretsBucket}`,
      fix: "each GitLab's exported secrets go to its own bucket, or a restore could take another GitLab's: set a different backups.secretsBucket",
    },
  ];
}

/**
 * The Helm releases and Secrets have fixed names in their namespaces: two environments on
 * one cluster context need different namespaces.
 */
function kubernetesClaims(env: Environment): Claim[] {
  if (env.platform !== "kubernetes") return [];
  const context = env.kubernetes.kubeconfig.context;
  const claim = (field: string, namespace: string): Claim => ({
    key: `k8s:${context}/${namespace}`,
    field,
    what: `namespace ${namespace} of kubeconfig context ${context}`,
    fix: "both would install the same releases and Secrets there: give this environment its own namespaces (kubernetes.namespace, runners.namespace) or its own cluster",
  });
  return [claim("kubernetes.namespace", env.kubernetes.namespace), claim("runners.namespace", env.runners.namespace)];
}

/**
 * A docker environment is one Docker host behind one public address: its ports 80 and 443
 * (Traefik) and its git SSH port are forwarded there, and its containers have fixed names.
 * Terraform reaches the daemon through DOCKER_HOST, which config does not name, so the
 * address the records point at is what tells two hosts apart.
 */
function dockerClaims(env: Environment): Claim[] {
  if (env.platform !== "docker") return [];
  return [
    {
      key: `docker:${env.docker.publicAddress}`,
      field: "docker.publicAddress",
      what: `the Docker host at ${env.docker.publicAddress}`,
      fix: "one environment per Docker host: two would create the same containers (their names are fixed) and both need ports 80 and 443 there: give this environment its own host and its address",
    },
  ];
}

const CLAIMS = [stateClaims, hostClaims, zoneSettingClaims, bucketClaims, dockerClaims, kubernetesClaims];

/**
 * Every collision between two environments, reported on one of them. With `selected`, only
 * collisions involving a selected environment, reported on it.
 */
export function crossEnvironmentProblems(all: readonly LoadedEnvironment[], selected?: ReadonlySet<string>): ConfigProblem[] {
  const owners = new Map<string, { loaded: LoadedEnvironment; claim: Claim }>();
  const problems: ConfigProblem[] = [];
  const reported = new Set<string>();
  const ordered = [...all].sort((a, b) => a.mtimeMs - b.mtimeMs || a.environment.name.localeCompare(b.environment.name));
  for (const loaded of ordered) {
    for (const claim of CLAIMS.flatMap((c) => c(loaded.environment))) {
      const first = owners.get(claim.key);
      if (!first) {
        owners.set(claim.key, { loaded, claim });
        continue;
      }
      if (first.loaded === loaded) continue;
      // The newer file is blamed, unless only the older one is being synthesized.
      const [blamed, other] =
        selected && !selected.has(loaded.environment.name)
          ? [
              { loaded: first.loaded, claim: first.claim },
              { loaded, claim },
            ]
          : [{ loaded, claim }, first];
      if (selected && !selected.has(blamed.loaded.environment.name)) continue;
      const pair = `${blamed.loaded.environment.name}\u0000${other.loaded.environment.name}\u0000${claim.field}\u0000${claim.key.split(":")[0]}`;
      if (reported.has(pair)) continue; // one line per field, not per bucket of a prefix
      reported.add(pair);
      const otherLine = other.loaded.locate(other.claim.field.split(".")).line;
      problems.push({
        file: blamed.loaded.environment.sourceFile,
        path: blamed.claim.field,
        message: `${blamed.claim.what} is also ${other.loaded.environment.sourceFile}'s (${other.claim.field}${otherLine ? `, line ${otherLine}` : ""}): ${blamed.claim.fix}`,
        ...blamed.loaded.locate(blamed.claim.field.split(".")),
      });
    }
  }
  return problems;
}

/**
 * A suppression names one resource by its construct path, whose first part is the stack:
 * this environment's name. One copied from another environment's file matches nothing here.
 */
export function foreignSuppressions(all: readonly LoadedEnvironment[], selected?: ReadonlySet<string>): ConfigProblem[] {
  const files = new Map(all.map((l) => [l.environment.name, l.environment.sourceFile]));
  return all.flatMap((loaded) => {
    const env = loaded.environment;
    if (selected && !selected.has(env.name)) return [];
    return env.policy.suppressions.flatMap((s, i) => {
      const stack = text(s.path)?.split("/")[0];
      if (stack === undefined || stack === env.name) return [];
      const owner = files.get(stack);
      const whose = owner ? `environment '${stack}' (${owner})` : `a stack named '${stack}', not this environment`;
      const path = ["policy", "suppressions", i, "path"];
      return [
        {
          file: env.sourceFile,
          path: `policy.suppressions[${i}].path`,
          message: `'${s.path}' belongs to ${whose}: a path starts with its stack's name, here '${env.name}/'`,
          ...loaded.locate(path),
        },
      ];
    });
  });
}
