// The pure half of `npm run verify`: finding and classifying the files a synthesized stack
// puts on hosts. Needs only Node (no validators).
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { classifyFile } from "../../scripts/verify/classify";
import { decodeUserData, extractArtifacts } from "../../scripts/verify/extract";
import { parseMultipart } from "../../scripts/verify/mime";
import { stackTemplateProblems, templateProblems, unescapeTemplate } from "../../scripts/verify/terraform";

const SCRIPT = '#!/usr/bin/env bash\nset -euo pipefail\necho "$${HOME}"\n';
const CLOUD_CONFIG = `#cloud-config\n${stringify(
  {
    write_files: [
      { path: "/etc/gitlab/gitlab.rb", content: "external_url 'https://gitlab.example.com'\n" },
      { path: "/usr/local/sbin/gitlab-bootstrap", permissions: "0755", content: SCRIPT },
      { path: "/usr/local/lib/helpers.sh", content: "say() { echo hi; }\n" },
      { path: "/etc/systemd/system/gitlab-backup.service", content: "[Service]\nExecStart=/usr/local/sbin/gitlab-backup\n" },
      { path: "/etc/systemd/system/gitlab-backup.timer", content: "[Timer]\nOnCalendar=daily\n" },
      { path: "/etc/gitlab-runner/config.toml", content: "concurrent = 2\n" },
      { path: "/etc/gitlab-platform/bootstrap.env", content: "DATA_VOLUME_ID=${aws_ebs_volume.data.id}\n" },
    ],
    runcmd: [["/usr/local/sbin/gitlab-bootstrap"]],
  },
  { lineWidth: 0, blockQuote: "literal" },
)}`;

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

function kindsByPath(artifacts: ReturnType<typeof extractArtifacts>): Record<string, string> {
  return Object.fromEntries(artifacts.map((a) => [a.path, a.kind]));
}

describe("extractArtifacts: aws_instance cloud-config user data", () => {
  const artifacts = extractArtifacts("staging", {
    resource: { aws_instance: { gitlab_ABC: { ami: "ami-1", user_data: CLOUD_CONFIG } } },
  });

  it("yields the document and every write_files entry, with origins", () => {
    expect(artifacts.map((a) => a.origin)).toEqual([
      "staging: aws_instance.gitlab_ABC user_data",
      "staging: aws_instance.gitlab_ABC user_data → /etc/gitlab/gitlab.rb",
      "staging: aws_instance.gitlab_ABC user_data → /usr/local/sbin/gitlab-bootstrap",
      "staging: aws_instance.gitlab_ABC user_data → /usr/local/lib/helpers.sh",
      "staging: aws_instance.gitlab_ABC user_data → /etc/systemd/system/gitlab-backup.service",
      "staging: aws_instance.gitlab_ABC user_data → /etc/systemd/system/gitlab-backup.timer",
      "staging: aws_instance.gitlab_ABC user_data → /etc/gitlab-runner/config.toml",
      "staging: aws_instance.gitlab_ABC user_data → /etc/gitlab-platform/bootstrap.env",
    ]);
  });

  it("classifies by path, and extension-less scripts by shebang", () => {
    expect(kindsByPath(artifacts)).toEqual({
      user_data: "cloud-config",
      "/etc/gitlab/gitlab.rb": "ruby",
      "/usr/local/sbin/gitlab-bootstrap": "shell",
      "/usr/local/lib/helpers.sh": "shell",
      "/etc/systemd/system/gitlab-backup.service": "systemd",
      "/etc/systemd/system/gitlab-backup.timer": "systemd",
      "/etc/gitlab-runner/config.toml": "toml",
      "/etc/gitlab-platform/bootstrap.env": "shell-env",
    });
  });

  it("gives contents as the host sees them: Terraform escapes undone, references kept", () => {
    const byPath = Object.fromEntries(artifacts.map((a) => [a.path, a.content]));
    expect(byPath["/usr/local/sbin/gitlab-bootstrap"]).toBe('#!/usr/bin/env bash\nset -euo pipefail\necho "${HOME}"\n');
    expect(byPath["/etc/gitlab-platform/bootstrap.env"]).toBe("DATA_VOLUME_ID=${aws_ebs_volume.data.id}\n");
    expect(byPath["/etc/systemd/system/gitlab-backup.timer"]).toBe("[Timer]\nOnCalendar=daily\n");
  });
});

describe("extractArtifacts: launch templates, MIME, containers, local files", () => {
  it("decodes base64 launch template user data", () => {
    const artifacts = extractArtifacts("production", {
      resource: { aws_launch_template: { runners_XYZ: { user_data: b64(CLOUD_CONFIG) } } },
    });
    expect(artifacts[0]).toMatchObject({ origin: "production: aws_launch_template.runners_XYZ user_data", kind: "cloud-config" });
    expect(artifacts[0]?.content.startsWith("#cloud-config\n")).toBe(true);
    expect(artifacts).toHaveLength(8);
    // Base64 is opaque to Terraform, so template escapes inside it reach the host verbatim.
    expect(artifacts[2]?.content).toContain('echo "$${HOME}"');
  });

  it("leaves launch template user data that is already plain text alone", () => {
    expect(decodeUserData("#cloud-config\nruncmd: []\n", true)).toEqual({ text: "#cloud-config\nruncmd: []\n" });
    expect(decodeUserData('${base64encode("#cloud-config\\nruncmd: []\\n")}', true)).toEqual({ text: "#cloud-config\nruncmd: []\n" });
    expect(decodeUserData("${data.cloudinit_config.x.rendered}", true)).toEqual({ unknown: "user data is a Terraform expression" });
  });

  it("splits MIME multipart user data and checks each part by its content type", () => {
    const mime = [
      'Content-Type: multipart/mixed; boundary="==BOUNDARY=="',
      "MIME-Version: 1.0",
      "",
      "--==BOUNDARY==",
      'Content-Type: text/cloud-config; charset="us-ascii"',
      'Content-Disposition: attachment; filename="cloud-config.yaml"',
      "",
      "#cloud-config",
      "write_files:",
      "  - path: /etc/gitlab-runner/config.toml",
      "    content: |",
      "      concurrent = 4",
      "",
      "--==BOUNDARY==",
      "Content-Type: text/x-shellscript",
      "Content-Transfer-Encoding: base64",
      "",
      b64("#!/bin/bash\necho part two\n"),
      "--==BOUNDARY==",
      "Content-Type: text/x-include-url",
      "",
      "https://example.com/x",
      "--==BOUNDARY==--",
      "",
    ].join("\r\n");
    const artifacts = extractArtifacts("staging", { resource: { aws_launch_template: { lt: { user_data: b64(mime) } } } });
    expect(artifacts.map((a) => [a.origin, a.kind])).toEqual([
      ["staging: aws_launch_template.lt user_data [part 1 text/cloud-config cloud-config.yaml]", "cloud-config"],
      ["staging: aws_launch_template.lt user_data [part 1 text/cloud-config cloud-config.yaml] → /etc/gitlab-runner/config.toml", "toml"],
      ["staging: aws_launch_template.lt user_data [part 2 text/x-shellscript]", "shell"],
      ["staging: aws_launch_template.lt user_data [part 3 text/x-include-url]", "unchecked"],
    ]);
    expect(artifacts[1]?.content).toBe("concurrent = 4\n");
    expect(artifacts[2]?.content).toBe("#!/bin/bash\necho part two\n");
  });

  it("yields docker_container uploads and local_file contents", () => {
    const artifacts = extractArtifacts("homelab", {
      resource: {
        docker_container: {
          gitlab_C1: {
            image: "gitlab/gitlab-ce",
            upload: [
              { file: "/etc/gitlab/gitlab.rb", content: "external_url 'http://gitlab'\n" },
              { file: "/usr/local/bin/gitlab-apply-settings", content: "#!/bin/sh\necho $${X}\n", executable: true },
              { file: "/etc/gitlab-runner/config.toml", content_base64: b64("concurrent = 1\n") },
            ],
          },
        },
        local_file: { prom_P1: { filename: "/srv/prometheus/prometheus.yml", content: "global: {}\n" } },
      },
    });
    expect(artifacts.map((a) => [a.origin, a.kind, a.content])).toEqual([
      ["homelab: docker_container.gitlab_C1 upload → /etc/gitlab/gitlab.rb", "ruby", "external_url 'http://gitlab'\n"],
      ["homelab: docker_container.gitlab_C1 upload → /usr/local/bin/gitlab-apply-settings", "shell", "#!/bin/sh\necho ${X}\n"],
      ["homelab: docker_container.gitlab_C1 upload → /etc/gitlab-runner/config.toml", "toml", "concurrent = 1\n"],
      ["homelab: local_file.prom_P1 → /srv/prometheus/prometheus.yml", "prometheus-config", "global: {}\n"],
    ]);
  });

  it("finds nothing in stacks without artifacts", () => {
    expect(extractArtifacts("x", {})).toEqual([]);
    expect(extractArtifacts("x", { resource: { aws_s3_bucket: { b: { bucket: "b" } } } })).toEqual([]);
  });
});

describe("classifyFile", () => {
  it.each([
    ["/etc/gitlab/gitlab.rb", "ruby", ""],
    ["/opt/x/run", "shell", "#!/bin/sh\ntrue\n"],
    ["/opt/x/run.py", "unchecked", "#!/usr/bin/env python3\n"],
    ["/etc/systemd/system/a.socket", "systemd", ""],
    ["/etc/systemd/system/var-opt.mount", "systemd", ""],
    ["/etc/systemd/system/a.path", "systemd", ""],
    ["/etc/systemd/system/gitlab-runner.service.d/log-file.conf", "systemd-dropin", "[Service]\n"],
    ["/etc/systemd/system/docker-cleanup.timer.d/override.conf", "systemd-dropin", "[Timer]\n"],
    ["/etc/systemd/system.conf.d/limits.conf", "unchecked", "[Manager]\n"],
    ["/etc/systemd/system/gitlab-runner.service.d/README", "unchecked", ""],
    ["/etc/logrotate.d/gitlab-runner", "logrotate", "/var/log/x.log {\n}\n"],
    ["/etc/logrotate.d/sub/gitlab-runner", "unchecked", ""],
    ["/etc/prometheus/prometheus.yml", "prometheus-config", ""],
    ["/etc/prometheus/prometheus-federate.yml", "prometheus-config", ""],
    ["/etc/prometheus/rules/gitlab.yml", "prometheus-rules", ""],
    ["/etc/prometheus/rules/gitlab.rules.yml", "prometheus-rules", ""],
    ["/etc/prometheus/alerting-rules.yml", "prometheus-rules", ""],
    ["/etc/prometheus/rules/gitlab.test.yml", "prometheus-rules-test", ""],
    ["/etc/alertmanager/alertmanager.yml", "alertmanager", ""],
    ["/etc/gitlab-platform/secrets.list", "unchecked", ""],
    ["/etc/gitlab-platform/jobs-egress.iptables", "iptables", "*filter\nCOMMIT\n"],
    ["/etc/gitlab-platform/jobs-egress.ip6tables", "iptables", "*filter\nCOMMIT\n"],
  ])("%s → %s", (path, kind, content) => {
    expect(classifyFile(path, content)).toBe(kind);
  });
});

describe("parseMultipart", () => {
  it("rejects documents without a boundary or closing delimiter", () => {
    expect(() => parseMultipart("Content-Type: text/plain\n\nhi")).toThrow(/not a multipart/);
    expect(() => parseMultipart('Content-Type: multipart/mixed; boundary="b"\n\n--b\n\nx\n')).toThrow(/closing/);
  });

  it("flattens nested multiparts", () => {
    const inner = "Content-Type: multipart/alternative; boundary=in\n\n--in\nContent-Type: text/cloud-config\n\n#cloud-config\n--in--\n";
    const outer = `Content-Type: multipart/mixed; boundary=out\n\n--out\n${inner}--out\nContent-Type: text/x-shellscript\n\n#!/bin/sh\n--out--\n`;
    expect(parseMultipart(outer)).toEqual([
      { contentType: "text/cloud-config", body: "#cloud-config" },
      { contentType: "text/x-shellscript", body: "#!/bin/sh" },
    ]);
  });
});

describe("Terraform template escapes", () => {
  it("undoes $${ and %%{", () => {
    expect(unescapeTemplate("a $${B} %%{c} ${var.d}")).toBe("a ${B} %{c} ${var.d}");
  });

  it("accepts references, function calls, escapes and directives", () => {
    expect(templateProblems("${var.x} ${aws_ebs_volume.data.id} ${data.aws_ami.u.id} ${local.a[0]}")).toEqual([]);
    expect(templateProblems('${jsonencode({a = "}"})} ${provider::aws::arn_parse(var.a)} ${true}')).toEqual([]);
    expect(templateProblems("echo $${HOME} %%{x} %{ if var.a }y%{ endif } 100% {")).toEqual([]);
  });

  it("flags shell expansions and unknown directives, with line numbers", () => {
    expect(templateProblems('set -u\n: "${GITLAB_VERSION:?missing}"\necho ${HOME} ${ID//-/}\nprintf %{x}\n')).toEqual([
      'line 2: "${GITLAB_VERSION:?missing}" is not a Terraform expression (escape it as $${)',
      'line 3: "${HOME}" is not a Terraform expression (escape it as $${)',
      'line 3: "${ID//-/}" is not a Terraform expression (escape it as $${)',
      'line 4: "%{x}" is not a Terraform template directive (escape it as %%{)',
    ]);
  });

  it("reports the attribute path in a whole stack, skipping cdktf metadata", () => {
    const stack = { "//": { note: "${X}" }, resource: { aws_instance: { i: { user_data: "#!/bin/sh\necho ${X}\n", tags: ["${Y}"] } } } };
    expect(stackTemplateProblems(stack)).toEqual([
      'resource.aws_instance.i.user_data: line 2: "${X}" is not a Terraform expression (escape it as $${)',
      'resource.aws_instance.i.tags[0]: line 1: "${Y}" is not a Terraform expression (escape it as $${)',
    ]);
  });
});
