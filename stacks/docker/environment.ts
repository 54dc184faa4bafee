// The docker environment as the stack's mappings see it, and its secrets: every one a
// root-only file on the Docker host, never a Terraform value (the state, in GitLab, is
// readable by the project's Developers).
import type { Environment } from "../../config/load";
import type { DockerEnvironmentConfig } from "../../config/schema/index";
import type { HostFileRef } from "../../config/schema/secrets";
import { hostSecretFile, type HostSecretFile } from "../../constructs/docker-conventions";

export type DockerEnvironment = Environment & DockerEnvironmentConfig;

/** The host files the environment's containers read their secrets from, as they are referenced. */
export class HostSecretFiles {
  private readonly paths = new Set<string>();

  constructor(private readonly dataRoot: string) {}

  /** The file a config reference names; remembered for the host_secret_files output. */
  file(ref: HostFileRef): HostSecretFile {
    const file = hostSecretFile(this.dataRoot, ref.hostFile);
    this.paths.add(file.hostPath);
    return file;
  }

  /** Every file referenced so far, sorted: what the operator creates before deploying. */
  hostPaths(): string[] {
    return [...this.paths].sort();
  }
}
