// Renders systemd service and timer units from a typed model. Periodic jobs are always
// timers, never cron: Amazon Linux 2023 has no cron (cron jobs there silently never ran).

/**
 * PATH of the GitLab server's services that call the AWS CLI: the image's own or, where it has
 * none, the snap the bootstrap installed (systemd's default PATH lacks /snap/bin).
 */
export const SERVICE_PATH_WITH_AWS_CLI = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin";

export interface ServiceUnit {
  readonly description: string;
  /** Absolute command lines, run in order (Type=oneshot when more than one or `oneshot`). */
  readonly execStart: readonly string[];
  readonly type?: "simple" | "oneshot" | "notify";
  readonly after?: readonly string[];
  readonly wants?: readonly string[];
  readonly requires?: readonly string[];
  readonly environment?: Readonly<Record<string, string>>;
  readonly restart?: "no" | "on-failure" | "always";
  readonly restartSec?: number;
  readonly timeoutStartSec?: number | "infinity";
  /** Install into multi-user.target so it starts at boot. */
  readonly wantedBy?: string;
}

export interface TimerUnit {
  readonly description: string;
  /** systemd OnCalendar expression, e.g. '*-*-* 02:00:00' or '*-*-* 00/6:00:00'. */
  readonly onCalendar: string;
  readonly persistent: boolean;
  readonly randomizedDelaySec?: number;
}

function section(name: string, entries: [string, string | number | undefined][]): string {
  const lines = entries.filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => `${k}=${v}`);
  return `[${name}]\n${lines.join("\n")}\n`;
}

function checkCommand(cmd: string): string {
  if (!cmd.startsWith("/")) throw new Error(`systemd ExecStart needs an absolute path: '${cmd}'`);
  if (/[\n\r]/.test(cmd)) throw new Error("systemd ExecStart must be one line");
  return cmd;
}

export function renderService(u: ServiceUnit): string {
  if (u.execStart.length === 0) throw new Error("a service needs at least one ExecStart");
  const type = u.type ?? (u.execStart.length > 1 ? "oneshot" : "simple");
  if (type !== "oneshot" && u.execStart.length > 1) throw new Error("only oneshot services may have several ExecStart lines");
  const unit = section("Unit", [
    ["Description", u.description],
    ["Wants", u.wants?.join(" ")],
    ["Requires", u.requires?.join(" ")],
    ["After", u.after?.join(" ")],
  ]);
  const env = Object.entries(u.environment ?? {}).map(([k, v]): [string, string] => {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k) || /["\\\n]/.test(v)) throw new Error(`invalid Environment entry ${k}`);
    return ["Environment", `"${k}=${v}"`];
  });
  const service = section("Service", [
    ["Type", type],
    ...env,
    ...u.execStart.map((c): [string, string] => ["ExecStart", checkCommand(c)]),
    ["Restart", u.restart],
    ["RestartSec", u.restartSec],
    ["TimeoutStartSec", u.timeoutStartSec],
  ]);
  const install = u.wantedBy ? `\n${section("Install", [["WantedBy", u.wantedBy]])}` : "";
  return `${unit}\n${service}${install}`;
}

export function renderTimer(t: TimerUnit): string {
  return `${section("Unit", [["Description", t.description]])}\n${section("Timer", [
    ["OnCalendar", t.onCalendar],
    ["Persistent", t.persistent ? "true" : "false"],
    ["RandomizedDelaySec", t.randomizedDelaySec],
  ])}\n${section("Install", [["WantedBy", "timers.target"]])}`;
}
