// What the second stack (`<env>-gitlab`) takes from its platform: the providers beside the
// GitLab provider, and where the GitLab provider's automation (admin) token comes from.
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import type { HelmProvider } from "@cdktf/provider-helm/lib/provider";
import type { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { AUTOMATION_TOKEN_K8S } from "../../constructs/gitlab-server/kubernetes";

/** The platform parts of a GitLabContentStack, one shape per platform. */
export type ContentPlatform =
  | {
      readonly platform: "aws";
      /** The AWS provider, in the environment's region and with its default tags. */
      readonly aws: AwsProvider;
      /** The automation token: a reference to the sensitive secret_string of `<env>-gitlab/automation-token`. */
      readonly automationToken: string;
    }
  | {
      readonly platform: "docker";
      /** The Docker provider (DOCKER_HOST decides the host, as in the first stack). */
      readonly docker: DockerProvider;
      /** Unset: Terraform's GitLab provider reads GITLAB_TOKEN, which the CLI sets from the GitLab container. */
      readonly automationToken?: undefined;
    }
  | {
      readonly platform: "kubernetes";
      /** The Kubernetes provider, on the same kubeconfig context as the first stack. */
      readonly kubernetes: KubernetesProvider;
      /** The Helm provider on the same cluster. */
      readonly helm: HelmProvider;
      /** The automation token: a reference to the sensitive `token` key of the Secret the first stack's Job writes. */
      readonly automationToken: string;
    };

/** The Secrets Manager secret (aws) the GitLab bootstrap stores the automation token in: named where the first stack creates it. */
export { automationTokenSecretName } from "../../constructs/gitlab-server/automation-token-aws";

/** The Secret (kubernetes, in the GitLab namespace) holding the automation token under `token`: the one the first stack's command writes. */
export const AUTOMATION_TOKEN_KUBERNETES_SECRET = AUTOMATION_TOKEN_K8S.secret;
