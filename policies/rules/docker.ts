// Docker host: pinned images, no privileged platform containers, no capabilities beyond
// Docker's default set, and nothing published except Traefik's 80/443 and GitLab's git SSH
// port (and no container on the host's network).
import type { Rule } from "../types";

/** Why an image name is not pinned, or undefined when it has a version tag or a digest. */
function unpinned(name: string): string | undefined {
  const digest = name.includes("@sha256:");
  const tag = /:([^/:@]+)$/.exec(name.split("@")[0] ?? "")?.[1];
  if (digest || (tag && tag !== "latest")) return undefined;
  return `image "${name}" must pin a version tag or digest (never latest or untagged)`;
}

const pinnedImages: Rule = {
  id: "DOCKER-IMAGE-PINNED",
  rationale: "An unpinned image changes under you at the next pull: untested upgrades, or a hijacked tag.",
  check: (stack) => [
    ...stack.ofType("docker_image").flatMap((image) => {
      const message = unpinned(String(image.config.name));
      return message ? [{ resource: image, message }] : [];
    }),
    // A container may name its image directly instead of through a docker_image resource.
    ...stack.ofType("docker_container").flatMap((c) => {
      const image = String(c.config.image);
      if (stack.referenced(image)?.type === "docker_image") return []; // checked above
      const message = image.includes("${")
        ? `image "${image}" is not a docker_image of this stack, so its pin cannot be checked: reference a docker_image with a pinned name`
        : unpinned(image);
      return message ? [{ resource: c, message }] : [];
    }),
  ],
};

const noPrivileged: Rule = {
  id: "DOCKER-NO-PRIVILEGED",
  rationale: "A privileged container is root on the host; only CI jobs may be privileged, and only when config asks.",
  check: (stack) =>
    stack
      .ofType("docker_container")
      .filter((c) => c.config.privileged === true)
      .map((resource) => ({ resource, message: "remove privileged = true" })),
};

/** Capabilities Docker gives every container unless told otherwise (moby's default set). */
const DEFAULT_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "NET_RAW",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

const capabilities: Rule = {
  id: "DOCKER-CAPABILITIES",
  rationale: "Capabilities beyond Docker's default set (NET_ADMIN, SYS_ADMIN, SYS_PTRACE…) let a container change the host or escape it.",
  check: (stack) =>
    stack.ofType("docker_container").flatMap((c) => {
      const blocks = [c.config.capabilities ?? []].flat() as { add?: string[] }[];
      const added = blocks.flatMap((b) => b.add ?? []).map((cap) => String(cap).toUpperCase().replace(/^CAP_/, ""));
      return [...new Set(added)]
        .filter((cap) => !DEFAULT_CAPABILITIES.has(cap))
        .map((cap) => ({
          resource: c,
          message: `capability ${cap} is not in Docker's default set: remove it, or suppress with the reason the container needs it`,
        }));
    }),
};

const publishedPorts: Rule = {
  id: "DOCKER-PUBLISHED-PORTS",
  rationale: "Only Traefik (80/443) and GitLab's git SSH port face the network; everything else stays on the private network.",
  check: (stack) =>
    stack.ofType("docker_container").flatMap((c) => {
      // The host's network publishes every port the container listens on; no container needs it.
      const hostNetwork =
        String(c.config.network_mode ?? "").toLowerCase() === "host"
          ? [
              {
                resource: c,
                message: 'network_mode "host" publishes every port the container listens on: join the platform network and publish ports explicitly',
              },
            ]
          : [];
      const allowed = c.config.name === "traefik" ? [80, 443] : c.config.name === "gitlab" ? [stack.context.gitSshPort] : [];
      return [
        ...hostNetwork,
        ...(c.config.ports ?? [])
          .filter((p: any) => !allowed.includes(p.external ?? p.internal))
          .map((p: any) => ({
            resource: c,
            message: `port ${p.external ?? p.internal} is published: route it through Traefik or keep it on the private network`,
          })),
      ];
    }),
};

export const dockerRules = [pinnedImages, noPrivileged, capabilities, publishedPorts];
