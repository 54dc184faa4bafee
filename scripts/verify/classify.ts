// Decides which validator a generated file needs, from the path it is written to on the
// host (or in the container) and, for extension-less scripts, from its shebang.
import { posix } from "node:path";

export type Kind =
  | "cloud-config"
  | "shell"
  | "shell-env"
  | "systemd"
  | "systemd-dropin"
  | "logrotate"
  | "sshd-config"
  | "ruby"
  | "toml"
  | "prometheus-config"
  | "prometheus-rules"
  | "prometheus-rules-test"
  | "alertmanager"
  | "crontab"
  | "yaml"
  | "json"
  | "iptables"
  | "helm-values"
  | "kubernetes-manifest"
  | "unchecked";

/** One generated file (or user data document) and where it came from. */
export interface Artifact {
  /** Human-readable provenance, e.g. "staging: aws_instance.x user_data → /etc/gitlab/gitlab.rb". */
  readonly origin: string;
  readonly kind: Kind;
  /** Destination path on the target, or a pseudo path like "user_data" for whole documents. */
  readonly path: string;
  readonly content: string;
  /** For Helm values: the chart they are for (its key list checks them). */
  readonly chart?: { readonly name: string; readonly version: string };
}

// Host scripts are installed without an extension (/usr/local/sbin/gitlab-bootstrap), so the
// shebang is the only reliable signal. Other interpreters are not ours to check.
const SHELL_SHEBANG = /^#!\s*(\/usr\/bin\/env\s+(bash|sh)|\/bin\/(bash|sh)|\/usr\/bin\/(bash|sh))(\s|$)/;
const RUBY_SHEBANG = /^#!\s*(\/usr\/bin\/env\s+ruby|\/usr\/bin\/ruby)(\s|$)/;
const UNIT_SUFFIXES = [".service", ".timer", ".socket", ".mount", ".path", ".target"];

export function hasShellShebang(content: string): boolean {
  return SHELL_SHEBANG.test(content);
}

export function classifyFile(path: string, content: string): Kind {
  const base = posix.basename(path);
  const dirs = posix.dirname(path).split("/");
  const isYaml = /\.ya?ml$/.test(base);

  if (base.endsWith(".rb") || RUBY_SHEBANG.test(content)) return "ruby";
  if (base.endsWith(".sh") || hasShellShebang(content)) return "shell";
  // KEY=value files the bootstrap scripts source with bash.
  if (base.endsWith(".env")) return "shell-env";
  if (UNIT_SUFFIXES.some((s) => base.endsWith(s))) return "systemd";
  // /etc/systemd/system/gitlab-runner.service.d/log-file.conf: loaded with the unit it extends.
  if (base.endsWith(".conf") && UNIT_SUFFIXES.some((s) => posix.dirname(path).endsWith(`${s}.d`))) return "systemd-dropin";
  if (posix.dirname(path) === "/etc/logrotate.d") return "logrotate";
  if (posix.dirname(path) === "/etc/ssh/sshd_config.d" && base.endsWith(".conf")) return "sshd-config";
  if (base.endsWith(".toml") || base.endsWith(".toml.template")) return "toml";
  if (dirs.includes("crontabs") || base === "crontab") return "crontab";
  if (base.endsWith(".json")) return "json";
  // iptables-restore files (the jobs firewall's), one per address family.
  if (base.endsWith(".iptables") || base.endsWith(".ip6tables")) return "iptables";
  if (/^alertmanager.*\.ya?ml$/.test(base)) return "alertmanager";
  if (isYaml) {
    const underRules = dirs.includes("rules") && path.includes("prometheus");
    // Unit tests for rules sit beside them (alerts.test.yml); promtool runs them differently.
    if (/\.test\.ya?ml$/.test(base) && (underRules || base.includes("rules"))) return "prometheus-rules-test";
    if (base.includes("rules") || underRules) return "prometheus-rules";
    if (/^prometheus.*\.ya?ml$/.test(base)) return "prometheus-config";
    // Other YAML (Traefik, Grafana provisioning) has no offline validator: at least it must parse.
    return "yaml";
  }
  return "unchecked";
}

/** Whole user data documents: what cloud-init will do with them, by their first line. */
export function classifyUserData(content: string): Kind | "multipart" {
  if (/^#\s*cloud-config/i.test(content)) return "cloud-config";
  if (/^content-type:\s*multipart\//i.test(content) || /^mime-version:/i.test(content)) return "multipart";
  if (hasShellShebang(content)) return "shell";
  return "unchecked";
}

/** MIME part content types cloud-init understands, mapped to the check they need. */
export function classifyMimePart(contentType: string, content: string): Kind | "multipart" {
  const type = contentType.toLowerCase();
  if (type.startsWith("multipart/")) return "multipart";
  if (type === "text/cloud-config") return "cloud-config";
  if (type.startsWith("text/x-shellscript")) return "shell";
  if (type === "text/plain") return classifyUserData(content);
  return "unchecked";
}
