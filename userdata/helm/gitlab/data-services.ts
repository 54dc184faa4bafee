// PostgreSQL, Redis and Gitaly: external services named with their Secrets, or the chart's
// bundled ones on volumes of the platform's Retain StorageClass.
import { mergeValues, type HelmValues } from "../values";
import type { ChartDataServices, ChartVolume, ExternalDatabase, ExternalRedis, MemoryProfile } from "./model";
import { bundledDatabaseTuning } from "./sizing";

const volume = (v: ChartVolume): HelmValues => ({ enabled: true, storageClass: v.storageClass, size: `${v.sizeGi}Gi` });

function externalDatabase(d: ExternalDatabase): HelmValues {
  return {
    postgresql: { install: false },
    global: {
      psql: {
        host: d.host,
        port: d.port,
        database: d.name,
        username: d.username,
        password: { useSecret: true, secret: d.password.secret, key: d.password.key },
      },
      // libpq reads the SSL mode from the environment; the chart's own psql.ssl is for client certificates.
      extraEnv: { PGSSLMODE: d.sslMode },
    },
  };
}

function externalRedis(r: ExternalRedis): HelmValues {
  return {
    redis: { install: false },
    global: {
      redis: {
        host: r.host,
        port: r.port,
        scheme: r.tls ? "rediss" : "redis",
        auth: r.password ? { enabled: true, secret: r.password.secret, key: r.password.key } : { enabled: false },
      },
    },
  };
}

/** global.psql / global.redis, or the bundled charts' persistence; Gitaly's volume. */
export function dataServiceValues(d: ChartDataServices, profile: MemoryProfile): HelmValues {
  const database =
    "external" in d.database
      ? externalDatabase(d.database.external)
      : { postgresql: { install: true, primary: { persistence: volume(d.database.bundled), extendedConfiguration: bundledDatabaseTuning(profile) } } };
  const redis = "external" in d.redis ? externalRedis(d.redis.external) : { redis: { install: true, master: { persistence: volume(d.redis.bundled) } } };
  return mergeValues(database, redis, { gitlab: { gitaly: { persistence: volume(d.gitaly) } } });
}
