// Docker host: pinned images, no privileged platform containers, and nothing published
// except Traefik's 80/443 and GitLab's git SSH port.
import type { Rule } from "../types";

const pinnedImages: Rule = {
  id: "DOCKER-IMAGE-PINNED",
  rationale: "An unpinned image changes under you at the next pull: untested upgrades, or a hijacked tag.",
  check: (stack) =>
    stack.ofType("docker_image").flatMap((image) => {
      const name = String(image.config.name);
      const digest = name.includes("@sha256:");
      const tag = /:([^/:@]+)$/.exec(name.split("@")[0] ?? "")?.[1];
      if (digest || (tag && tag !== "latest")) return [];
      return [{ resource: image, message: `image "${name}" must pin a version tag or digest (never latest or untagged)` }];
    }),
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

const publishedPorts: Rule = {
  id: "DOCKER-PUBLISHED-PORTS",
  rationale: "Only Traefik (80/443) and GitLab's git SSH port face the network; everything else stays on the private network.",
  check: (stack) =>
    stack.ofType("docker_container").flatMap((c) => {
      const allowed = c.config.name === "traefik" ? [80, 443] : c.config.name === "gitlab" ? [stack.context.gitSshPort] : [];
      return (c.config.ports ?? [])
        .filter((p: any) => !allowed.includes(p.external ?? p.internal))
        .map((p: any) => ({ resource: c, message: `port ${p.external ?? p.internal} is published: route it through Traefik or keep it on the private network` }));
    }),
};

export const dockerRules = [pinnedImages, noPrivileged, publishedPorts];
