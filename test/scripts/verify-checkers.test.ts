// Each validator wrapper must catch a planted mistake and pass a good file. Tests needing a
// Debian validator are skipped where it is not installed — except with CI=true, where a
// missing validator must fail the run (scripts/install-validators.sh installs them all).
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  checkAlertmanager,
  checkCalendar,
  checkCloudConfig,
  checkLogrotate,
  checkPrometheusConfig,
  checkPrometheusRuleTests,
  checkPrometheusRules,
  checkRuby,
  checkShell,
  checkShellEnv,
  checkSshdConfig,
  checkSystemdUnits,
  checkToml,
  cloudConfigShapeProblems,
} from "../../scripts/verify/checkers";
import { checkCrontab, checkJson, checkYaml } from "../../scripts/verify/checkers";
import { classifyFile } from "../../scripts/verify/classify";
import { checkArtifacts } from "../../scripts/verify/dispatch";
import { missing } from "../../scripts/verify/result";
import { execPaths, findUnit, HOST_UNITS, stockUnitsCopy } from "../../scripts/verify/systemd";
import { hasTool, isStrict } from "../../scripts/verify/tools";

/** Skip only off CI: in CI the checker reports the missing tool and the test fails. */
const without = (tool: string) => !isStrict() && !hasTool(tool);

const findings = (r: { findings: readonly string[] }) => r.findings.join("\n");

describe("ruby -c", () => {
  it.skipIf(without("ruby"))("passes valid gitlab.rb and reports a syntax error with the target path", async () => {
    expect(await checkRuby("external_url 'https://gitlab.example.com'\ngitlab_rails['x'] = { 'a' => 1 }\n", "/etc/gitlab/gitlab.rb")).toMatchObject({
      status: "ok",
    });
    const bad = await checkRuby("gitlab_rails['smtp_port'] = [587,\n", "/etc/gitlab/gitlab.rb");
    expect(bad.status).toBe("FAIL");
    expect(findings(bad)).toMatch(/\/etc\/gitlab\/gitlab\.rb:\d+: .*syntax error/);
  });
});

describe("shellcheck on sourced KEY=value files", () => {
  it.skipIf(without("shellcheck"))("passes assignments and Terraform references, catches a broken quote", async () => {
    const good = await checkShellEnv(
      'GITLAB_VERSION=18.5.1-ce.0\nDATA_VOLUME_ID=${aws_ebs_volume.data_1A2B.id}\nUNITS="a.timer b.timer"\n',
      "/etc/x/bootstrap.env",
    );
    expect(good).toMatchObject({ status: "ok", notes: ["1 Terraform reference(s) checked as a plain word"] });
    const bad = await checkShellEnv('ENABLE_UNITS="a.timer b.timer\nAWS_REGION=eu-west-3\n', "/etc/x/bootstrap.env");
    expect(bad.status).toBe("FAIL");
    expect(findings(bad)).toMatch(/\/etc\/x\/bootstrap\.env/);
  });
});

describe("shellcheck -S warning", () => {
  it.skipIf(without("shellcheck"))("passes a clean script, with or without a shebang", async () => {
    expect(await checkShell('#!/usr/bin/env bash\nset -euo pipefail\nrm -rf -- "${1:?}"/*\n', "/usr/local/sbin/x")).toMatchObject({ status: "ok" });
    expect(await checkShell('rm -- "$1"\n', "/opt/lib.sh")).toMatchObject({ status: "ok" }); // checked as bash
  });

  it.skipIf(without("shellcheck"))("reports an unquoted $1 handed to rm -rf", async () => {
    const r = await checkShell("#!/bin/bash\nrm -rf $1/*\n", "/usr/local/sbin/cleanup");
    expect(r.status).toBe("FAIL");
    expect(findings(r)).toContain("SC2115");
    expect(findings(r)).toContain("/usr/local/sbin/cleanup");
  });

  it.skipIf(without("shellcheck"))("reports a cd that may fail silently", async () => {
    expect(findings(await checkShell("#!/bin/sh\ncd $1\nrm x\n"))).toContain("SC2164");
  });
});

describe("systemd-analyze", () => {
  const service = (exec: string) => `[Unit]\nDescription=Back up GitLab\n\n[Service]\nType=oneshot\nExecStart=${exec}\n`;
  const timer = (calendar: string) =>
    `[Unit]\nDescription=Nightly GitLab backup\n\n[Timer]\nOnCalendar=${calendar}\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n`;
  const unit = (name: string, content: string) => ({ path: `/etc/systemd/system/${name}`, content });

  it("finds the executables of Exec* lines, ignoring prefixes and relative paths", () => {
    expect(execPaths("[Service]\nExecStartPre=-/usr/bin/a x\nExecStart=/usr/local/sbin/b\nExecStop=bin/c\nExecReload=@/bin/d d\n")).toEqual([
      "/usr/bin/a",
      "/usr/local/sbin/b",
      "/bin/d",
    ]);
  });

  it.skipIf(without("systemd-analyze"))("passes a service and its timer verified together", async () => {
    const results = await checkSystemdUnits([
      unit("gitlab-backup.service", service("/usr/local/sbin/gitlab-backup --keep 7")),
      unit("gitlab-backup.timer", timer("*-*-* 02:00:00")),
    ]);
    expect([...results.values()].map((r) => [r.status, r.findings])).toEqual([
      ["ok", []],
      ["ok", []],
    ]);
  });

  it.skipIf(without("systemd-analyze"))("reports a relative ExecStart on the service only", async () => {
    const results = await checkSystemdUnits([unit("gitlab-backup.service", service("sbin/gitlab-backup")), unit("gitlab-backup.timer", timer("daily"))]);
    const svc = results.get("/etc/systemd/system/gitlab-backup.service");
    expect(svc?.status).toBe("FAIL");
    expect(findings(svc ?? { findings: [] })).toMatch(/gitlab-backup\.service:\d+: .*absolute path/);
    expect(results.get("/etc/systemd/system/gitlab-backup.timer")?.status).toBe("ok");
  });

  it.skipIf(without("systemd-analyze"))("reports OnCalendar=bogus", async () => {
    const results = await checkSystemdUnits([
      unit("gitlab-backup.service", service("/usr/local/sbin/gitlab-backup")),
      unit("gitlab-backup.timer", timer("bogus")),
    ]);
    const t = results.get("/etc/systemd/system/gitlab-backup.timer");
    expect(t?.status).toBe("FAIL");
    expect(findings(t ?? { findings: [] })).toContain("OnCalendar=bogus");
    expect(results.get("/etc/systemd/system/gitlab-backup.service")?.status).toBe("ok");
    expect(await checkCalendar("bogus")).toMatchObject({ status: "FAIL" });
    expect(await checkCalendar("*-*-* 00/6:00:00")).toMatchObject({ status: "ok" });
  });

  it.skipIf(without("systemd-analyze"))("reports a timer shipped without its service", async () => {
    const results = await checkSystemdUnits([unit("gitlab-backup.timer", timer("daily"))]);
    expect(findings(results.get("/etc/systemd/system/gitlab-backup.timer") ?? { findings: [] })).toContain(
      "activates gitlab-backup.service, which is not generated alongside it",
    );
  });

  it.skipIf(without("systemd-analyze"))("stubs hard dependencies on units that packages install, with a note", async () => {
    // gitlab-runsvdir.service comes with the gitlab-ce package at boot: no Debian package on
    // this machine installs it, whatever else is installed (docker.io does bring docker.service).
    const [r] = await checkSystemdUnits([
      unit(
        "backup.service",
        `[Unit]\nDescription=r\nRequires=gitlab-runsvdir.service\nAfter=gitlab-runsvdir.service\n\n[Service]\nExecStart=/usr/bin/gitlab-ctl status\n`,
      ),
    ]).then((m) => [...m.values()]);
    expect(r).toMatchObject({ status: "ok", notes: ["stubbed dependency gitlab-runsvdir.service (not a stock unit on this machine)"] });
  });

  it.skipIf(without("systemd-analyze"))("stages the machine's stock units from a copy of its own, never linking the machine's files", () => {
    const copy = stockUnitsCopy();
    const tree = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
    expect(tree(copy)).toEqual(tree(HOST_UNITS));
    for (const name of tree(HOST_UNITS)) {
      const [host, ours] = [join(HOST_UNITS, name), join(copy, name)].map((p) => lstatSync(p));
      if (host!.isDirectory()) continue;
      expect([ours!.dev, ours!.ino], name).not.toEqual([host!.dev, host!.ino]);
      if (host!.isSymbolicLink()) expect(readlinkSync(join(copy, name))).toBe(readlinkSync(join(HOST_UNITS, name)));
      else expect(readFileSync(join(copy, name)).equals(readFileSync(join(HOST_UNITS, name))), name).toBe(true);
    }
    expect(stockUnitsCopy(), "made once").toBe(copy);
  });

  it("counts a link that leads nowhere as a unit already there: no stub is written through it", () => {
    const root = mkdtempSync(join(tmpdir(), "systemd-root-"));
    try {
      mkdirSync(join(root, "lib/systemd/system"), { recursive: true });
      const outside = join(root, "outside.service");
      symlinkSync(outside, join(root, "lib/systemd/system/gone.service"));
      expect(findUnit(root, "gone.service")).toBe(join(root, "lib/systemd/system/gone.service"));
      expect(findUnit(root, "absent.service")).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("systemd-analyze on drop-ins", () => {
  const DROP_IN = "/etc/systemd/system/gitlab-runner.service.d/log-file.conf";
  const logging = "[Service]\nStandardOutput=append:/var/log/gitlab-runner/runner.log\nStandardError=append:/var/log/gitlab-runner/runner.log\n";
  const cleanup = {
    path: "/etc/systemd/system/docker-cleanup.service",
    content: "[Unit]\nDescription=c\n\n[Service]\nType=oneshot\nExecStart=/usr/local/sbin/docker-cleanup\n",
  };

  it.skipIf(without("systemd-analyze"))("passes a good drop-in for a unit a package installs, loaded into a stub of it", async () => {
    const results = await checkSystemdUnits([{ path: DROP_IN, content: logging }]);
    expect(results.get(DROP_IN)).toEqual({
      tool: "systemd-analyze verify",
      status: "ok",
      findings: [],
      notes: ["stubbed gitlab-runner.service to load this drop-in (not a stock unit on this machine)"],
    });
  });

  it.skipIf(without("systemd-analyze"))("reports a misspelled key in the drop-in, on the drop-in only", async () => {
    const results = await checkSystemdUnits([cleanup, { path: DROP_IN, content: logging.replace("StandardOutput=", "StandardOutptu=") }]);
    const r = results.get(DROP_IN);
    expect(r?.status).toBe("FAIL");
    expect(findings(r ?? { findings: [] })).toMatch(/^gitlab-runner\.service\.d\/log-file\.conf:2: Unknown key '?StandardOutptu'?/m);
    expect(results.get(cleanup.path)).toMatchObject({ status: "ok", findings: [] });
  });

  it.skipIf(without("systemd-analyze"))("charges what a drop-in breaks in its (stubbed) unit to the drop-in", async () => {
    // An empty ExecStart= resets the unit's command: the unit no longer loads.
    const results = await checkSystemdUnits([cleanup, { path: DROP_IN, content: "[Service]\nExecStart=\n" }]);
    expect(results.get(DROP_IN)?.status).toBe("FAIL");
    expect(findings(results.get(DROP_IN) ?? { findings: [] })).toContain("gitlab-runner.service");
    expect(results.get(cleanup.path)?.status).toBe("ok");
  });

  it.skipIf(without("systemd-analyze"))("loads a drop-in into our own unit when it is generated alongside, without a stub", async () => {
    const dropIn = { path: "/etc/systemd/system/docker-cleanup.service.d/nice.conf", content: "[Service]\nNice=10\n" };
    const good = await checkSystemdUnits([cleanup, dropIn]);
    expect(good.get(dropIn.path)).toEqual({ tool: "systemd-analyze verify", status: "ok", findings: [] });
    // Proof that it was loaded with our unit: a value the unit's type forbids is caught.
    const bad = await checkSystemdUnits([cleanup, { ...dropIn, content: "[Service]\nNice=99\n" }]);
    expect(findings(bad.get(dropIn.path) ?? { findings: [] })).toMatch(/docker-cleanup\.service\.d\/nice\.conf:2: .*Nice/);
  });
});

describe("logrotate --debug", () => {
  const LABEL = "/etc/logrotate.d/gitlab-runner";
  const good = "/var/log/gitlab-runner/runner.log {\n  daily\n  rotate 7\n  compress\n  missingok\n  notifempty\n  copytruncate\n}\n";

  it.skipIf(without("logrotate"))("passes a good file, also when the log it names is not on this machine", async () => {
    expect(await checkLogrotate(good, LABEL)).toEqual({ tool: "logrotate --debug", status: "ok", findings: [] });
    // Without missingok logrotate reports the absent log and exits 1; the host will have it.
    expect(await checkLogrotate(good.replace("  missingok\n", "").replace("gitlab-runner/runner.log", "absent-dir/absent.log"), LABEL)).toMatchObject({
      status: "ok",
    });
  });

  it.skipIf(without("logrotate"))("reports an unknown directive, which logrotate itself only warns about (exit 0)", async () => {
    const r = await checkLogrotate(good.replace("copytruncate", "copytruncat"), LABEL);
    expect(r.status).toBe("FAIL");
    expect(findings(r)).toMatch(/\/etc\/logrotate\.d\/gitlab-runner:7 unknown option 'copytruncat'/);
  });

  it.skipIf(without("logrotate"))("reports an unbalanced brace and a bad value", async () => {
    const brace = await checkLogrotate(`${good}}\n`, LABEL);
    expect(brace.status).toBe("FAIL");
    expect(findings(brace)).toMatch(/gitlab-runner:9 unexpected }/);
    const count = await checkLogrotate(good.replace("rotate 7", "rotate seven"), LABEL);
    expect(count.status).toBe("FAIL");
    expect(findings(count)).toMatch(/bad rotation count 'seven'/);
  });
});

describe("sshd -t", () => {
  const LABEL = "/etc/ssh/sshd_config.d/10-gitlab-git-only.conf";

  it("classifies sshd drop-ins for it", () => {
    expect(classifyFile(LABEL, "AllowUsers git\n")).toBe("sshd-config");
    expect(classifyFile("/etc/ssh/ssh_config.d/x.conf", "Host *\n")).toBe("unchecked");
  });

  it.skipIf(without("sshd"))("passes a good drop-in, though no sshd runs on this machine", async () => {
    expect(await checkSshdConfig("# only git\nAllowUsers git\n", LABEL)).toEqual({ tool: "sshd -t", status: "ok", findings: [] });
  });

  it.skipIf(without("sshd"))("reports a misspelt option and a bad value at the drop-in's path", async () => {
    const typo = await checkSshdConfig("AllowUser git\n", LABEL);
    expect(typo.status).toBe("FAIL");
    expect(findings(typo)).toMatch(/\/etc\/ssh\/sshd_config\.d\/10-gitlab-git-only\.conf: line 1: Bad configuration option: AllowUser/);
    const value = await checkSshdConfig("PasswordAuthentication maybe\n", LABEL);
    expect(value.status).toBe("FAIL");
    expect(findings(value)).toMatch(/unsupported option "maybe"|bad yes\/no/i);
  });
});

describe("dispatch of the runner's drop-in and logrotate file", () => {
  const at = (path: string, content: string) => ({
    origin: `staging: aws_launch_template.runners user_data → ${path}`,
    kind: classifyFile(path, content),
    path,
    content,
  });
  const artifacts = (logging: string) => [
    at("/etc/systemd/system/gitlab-runner.service.d/log-file.conf", logging),
    at("/etc/logrotate.d/gitlab-runner", "/var/log/gitlab-runner/runner.log {\n  daily\n  missingok\n}\n"),
    at("/etc/systemd/system/docker-cleanup.service", "[Unit]\nDescription=c\n\n[Service]\nType=oneshot\nExecStart=/usr/local/sbin/docker-cleanup\n"),
  ];

  it.skipIf(without("systemd-analyze") || without("logrotate"))("checks both with their validator, never as unchecked", async () => {
    const rows = await checkArtifacts(artifacts("[Service]\nStandardError=append:/var/log/gitlab-runner/runner.log\n"));
    expect(rows.map((r) => [r.origin.split(" → ")[1], r.tool, r.status])).toEqual([
      ["/etc/systemd/system/gitlab-runner.service.d/log-file.conf", "systemd-analyze verify", "ok"],
      ["/etc/logrotate.d/gitlab-runner", "logrotate --debug", "ok"],
      ["/etc/systemd/system/docker-cleanup.service", "systemd-analyze verify", "ok"],
    ]);
    const bad = await checkArtifacts(artifacts("[Service]\nStandardEror=append:/var/log/gitlab-runner/runner.log\n"));
    expect(bad.map((r) => r.status)).toEqual(["FAIL", "ok", "ok"]);
  });
});

describe("TOML", () => {
  it("passes valid TOML and reports invalid TOML with its position", async () => {
    expect(await checkToml('concurrent = 2\n[[runners]]\nname = "docker"\n')).toMatchObject({ status: "ok" });
    const bad = await checkToml('concurrent = 2\n[[runners]]\nname = "docker\n', "/etc/gitlab-runner/config.toml");
    expect(bad.status).toBe("FAIL");
    expect(bad.findings[0]).toMatch(/^\/etc\/gitlab-runner\/config\.toml:3:\d+: /);
  });

  it("checks gitlab-runner's config.toml key names, the docker-autoscaler's section by section (the runner ignores unknown keys)", async () => {
    // The jobs-mode manager's file as the renderer writes it.
    const file = "/etc/gitlab-runner/config.toml.template";
    const autoscaler = (extra: string, policy = "idle_count = 1", plugin = 'name = "w"') =>
      `concurrent = 6\n[[runners]]\nname = "m"\nexecutor = "docker-autoscaler"\n[runners.docker]\nimage = "node:20-alpine"\n[runners.autoscaler]\nplugin = "aws:1.1"\ncapacity_per_instance = 2\nmax_instances = 3\n${extra}\n[runners.autoscaler.plugin_config]\n${plugin}\n[runners.autoscaler.connector_config]\nusername = "ec2-user"\n[[runners.autoscaler.policy]]\nperiods = ["* * * * *"]\n${policy}\n`;
    expect(await checkToml(autoscaler("max_use_count = 20"), file)).toMatchObject({ status: "ok" });
    const bad = await checkToml(autoscaler("max_use = 20", "idle_instances = 1", 'name = "w"\nregion = "eu-west-3"'), file);
    expect(bad.findings).toEqual([
      `${file}: runners[0].autoscaler.max_use: unknown key in [runners.autoscaler]`,
      `${file}: runners[0].autoscaler.policy[0].idle_instances: unknown key in [runners.autoscaler.policy]`,
      `${file}: runners[0].autoscaler.plugin_config.region: unknown key in [runners.autoscaler.plugin_config(aws)]`,
    ]);
    // Outside the autoscaler: the runner's whole key list.
    expect((await checkToml('concurrent = 2\n[[runners]]\nname = "d"\nexecuter = "docker"\n', "config.toml")).findings).toEqual([
      "config.toml: runners[0].executer: unknown gitlab-runner config.toml key",
    ]);
    // Other TOML files are only parsed.
    expect(await checkToml("anything_goes = 1\n", "/etc/containerd/other.toml")).toMatchObject({ status: "ok" });
  });
});

describe("cloud-config", () => {
  const good = "#cloud-config\npackage_update: true\nwrite_files:\n  - path: /etc/x\n    content: hi\nruncmd:\n  - [echo, hi]\n";

  it("flags a misspelled top-level key and a wrong first line without cloud-init", () => {
    expect(cloudConfigShapeProblems(good)).toEqual([]);
    expect(cloudConfigShapeProblems("#cloud-config\nwrite_file:\n  - path: /etc/x\n")).toEqual([
      'unknown top-level key "write_file" (cloud-init would ignore it; see scripts/verify/cloud-config-keys.ts)',
    ]);
    expect(cloudConfigShapeProblems("# cloud-config\nruncmd: []\n")[0]).toMatch(/first line must be exactly "#cloud-config"/);
    expect(cloudConfigShapeProblems("#cloud-config\n- a\n")).toEqual(["the document must be a YAML mapping of cloud-init module keys"]);
  });

  it("fails a misspelled key even where cloud-init is missing", async () => {
    const r = await checkCloudConfig("#cloud-config\nwrite_file:\n  - path: /etc/x\n");
    expect(r.status).toBe("FAIL");
    expect(findings(r)).toContain('unknown top-level key "write_file"');
  });

  it.skipIf(without("cloud-init"))("passes a valid document and reports schema errors (runcmd: 5)", async () => {
    expect(await checkCloudConfig(good)).toMatchObject({ status: "ok", findings: [] });
    const r = await checkCloudConfig("#cloud-config\nruncmd: 5\n");
    expect(r.status).toBe("FAIL");
    expect(findings(r)).toMatch(/runcmd: 5 is not of type 'array'/);
  });
});

describe("promtool and amtool", () => {
  const rules = `groups:\n  - name: gitlab\n    rules:\n      - alert: GitLabDown\n        expr: up{job="gitlab"} == 0\n        for: 5m\n        labels:\n          severity: page\n`;
  const ruleTest = (severity: string) =>
    `rule_files:\n  - /etc/prometheus/rules/gitlab.rules.yml\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n      - series: 'up{job="gitlab"}'\n        values: '0x15'\n    alert_rule_test:\n      - eval_time: 10m\n        alertname: GitLabDown\n        exp_alerts:\n          - exp_labels:\n              severity: ${severity}\n              job: gitlab\n`;

  it.skipIf(without("promtool"))("checks prometheus.yml syntax", async () => {
    expect(
      await checkPrometheusConfig(
        "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: gitlab\n    static_configs:\n      - targets: ['localhost:9090']\n",
      ),
    ).toMatchObject({ status: "ok" });
    expect(await checkPrometheusConfig("global:\n  scrape_interval: banana\n")).toMatchObject({ status: "FAIL" });
  });

  it.skipIf(without("promtool"))("checks rules and runs their unit tests", async () => {
    expect(await checkPrometheusRules(rules)).toMatchObject({ status: "ok" });
    expect(await checkPrometheusRules(rules.replace("== 0", "=="))).toMatchObject({ status: "FAIL" });
    const files = [{ path: "/etc/prometheus/rules/gitlab.rules.yml", content: rules }];
    const path = "/etc/prometheus/rules/gitlab.test.yml";
    expect(await checkPrometheusRuleTests({ path, content: ruleTest("page") }, files)).toMatchObject({ status: "ok" });
    expect(await checkPrometheusRuleTests({ path, content: ruleTest("ticket") }, files)).toMatchObject({ status: "FAIL" });
  });

  it.skipIf(without("amtool"))("checks alertmanager.yml", async () => {
    expect(await checkAlertmanager("route:\n  receiver: ops\nreceivers:\n  - name: ops\n")).toMatchObject({ status: "ok" });
    expect(await checkAlertmanager("route:\n  receiver: nobody\nreceivers:\n  - name: ops\n")).toMatchObject({ status: "FAIL" });
  });
});

describe("missing validators", () => {
  const ci = process.env.CI;
  afterEach(() => {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  });

  it("fail with CI=true and are skipped otherwise, with the install hint", () => {
    process.env.CI = "true";
    expect(missing("promtool")).toEqual({ tool: "promtool", status: "FAIL", findings: ["missing validator promtool: run scripts/install-validators.sh"] });
    process.env.CI = "false";
    expect(missing("promtool").status).toBe("skipped");
    expect(missing("systemd-analyze", true).status).toBe("FAIL"); // units always need it
  });
});

describe("crontab and plain YAML checks", () => {
  it("classifies crontabs, runner config templates and other YAML", () => {
    expect(classifyFile("/etc/crontabs/root", "0 2 * * * /bin/true\n")).toBe("crontab");
    expect(classifyFile("/etc/gitlab-platform/bootstrap.env", "A=1\n")).toBe("shell-env");
    expect(classifyFile("/etc/gitlab-runner/config.toml.template", "concurrent = 1\n")).toBe("toml");
    expect(classifyFile("/etc/traefik/traefik.yml", "a: 1\n")).toBe("yaml");
  });

  it("accepts a good crontab and finds bad schedules, relative commands and a missing final newline", async () => {
    expect((await checkCrontab("# c\n0 */6 * * * /usr/local/bin/x --y\n")).status).toBe("ok");
    const bad = await checkCrontab("0 2 * * /bin/true\n0 2 * * * docker ps\n5 4 * * * /bin/true");
    expect(bad.status).toBe("FAIL");
    expect(bad.findings.join("\n")).toMatch(/must end with a newline/);
    expect(bad.findings.join("\n")).toMatch(/crontab:1: invalid schedule/);
    expect(bad.findings.join("\n")).toMatch(/crontab:2: command must be an absolute path/);
  });

  it("finds YAML that does not parse or repeats a key", async () => {
    expect((await checkYaml("a: 1\nb: [1, 2]\n")).status).toBe("ok");
    expect((await checkYaml("a: 1\na: 2\n")).status).toBe("FAIL");
    expect((await checkYaml("a: [1, 2\n")).status).toBe("FAIL");
  });
});

describe("Alertmanager url_file and JSON checks", () => {
  const strict = process.env.CI === "true";
  const webhook = [
    "route:",
    "  receiver: hook",
    "receivers:",
    "  - name: hook",
    "    webhook_configs:",
    "      - url_file: /etc/alertmanager/secrets/webhook-url",
    "",
  ].join("\n");

  it.skipIf(!hasTool("amtool") && !strict)("accepts url_file even with an amtool that predates it, and still finds real mistakes", async () => {
    expect((await checkAlertmanager(webhook)).status).toBe("ok");
    expect((await checkAlertmanager(webhook.replace("receiver: hook", "receiver: nobody"))).status).toBe("FAIL");
  });

  it("parses JSON dashboards and reports broken ones", async () => {
    expect((await checkJson('{"panels": []}')).status).toBe("ok");
    expect((await checkJson('{"panels": [}')).status).toBe("FAIL");
  });
});
