// GitLab's integrated container registry on the docker platform. It runs inside the GitLab
// container (Omnibus), so it has no Terraform resources of its own: this describes what it
// adds to the others — a host name routed by Traefik to GitLab's registry vhost, and image
// storage on its own host directory, outside the container and apart from GitLab's data.
import type { GitLabContainerRef } from "../gitlab-server/docker";
import type { TraefikRoute } from "../../userdata/traefik/traefik-config";

/** Where Omnibus keeps registry images (gitlab_rails['registry_path'] default). */
export const REGISTRY_STORAGE_PATH = "/var/opt/gitlab/gitlab-rails/shared/registry";

export interface DockerRegistryProps {
  /** Registry host name, e.g. registry.example.com. */
  readonly host: string;
  readonly dataRoot: string;
}

export interface DockerRegistry {
  /** Traefik's route for the registry host, to the GitLab container that serves its vhost. */
  route(gitlab: GitLabContainerRef): TraefikRoute;
  /** Bind mount for the GitLab container: images survive a new container. */
  readonly storageMount: { readonly hostPath: string; readonly containerPath: string };
}

export function dockerRegistry(props: DockerRegistryProps): DockerRegistry {
  return {
    route: (gitlab) => ({ name: "registry", host: props.host, containerName: gitlab.containerName, port: gitlab.httpPort }),
    storageMount: { hostPath: `${props.dataRoot}/registry`, containerPath: REGISTRY_STORAGE_PATH },
  };
}
