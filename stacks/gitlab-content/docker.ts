// docker: the automation token stays a file in the GitLab container; the GitLab provider gets
// no token attribute and reads GITLAB_TOKEN, which `npm run plan|deploy` sets from that file.
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import type { Construct } from "constructs";
import type { ContentPlatform } from "./platform";

/** The Docker provider, configured as the first stack's; no token: GITLAB_TOKEN. */
export function dockerContentPlatform(scope: Construct): ContentPlatform {
  // No host and no ping at start, as in the first stack: DOCKER_HOST decides.
  const docker = new DockerProvider(scope, "docker", { disableDockerDaemonCheck: true });
  return { platform: "docker", docker };
}
