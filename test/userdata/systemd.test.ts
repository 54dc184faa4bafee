import { describe, expect, it } from "vitest";
import { renderService, renderTimer } from "../../userdata/systemd";

describe("systemd unit renderer", () => {
  it("renders a oneshot service with ordering, environment and install section", () => {
    const unit = renderService({
      description: "Prune Docker data older than 4h",
      execStart: ["/usr/bin/docker system prune -af --volumes --filter until=4h"],
      type: "oneshot",
      after: ["docker.service"],
      requires: ["docker.service"],
      environment: { HOME: "/root" },
    });
    expect(unit).toBe(
      [
        "[Unit]",
        "Description=Prune Docker data older than 4h",
        "Requires=docker.service",
        "After=docker.service",
        "",
        "[Service]",
        "Type=oneshot",
        'Environment="HOME=/root"',
        "ExecStart=/usr/bin/docker system prune -af --volumes --filter until=4h",
        "",
      ].join("\n"),
    );
  });

  it("renders a timer that survives missed runs", () => {
    expect(renderTimer({ description: "every 6 hours", onCalendar: "*-*-* 00/6:00:00", persistent: true, randomizedDelaySec: 300 })).toBe(
      [
        "[Unit]",
        "Description=every 6 hours",
        "",
        "[Timer]",
        "OnCalendar=*-*-* 00/6:00:00",
        "Persistent=true",
        "RandomizedDelaySec=300",
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
      ].join("\n"),
    );
  });

  it("adds WantedBy for services that start at boot", () => {
    expect(renderService({ description: "x", execStart: ["/bin/true"], wantedBy: "multi-user.target", restart: "on-failure", restartSec: 5 })).toContain(
      "Restart=on-failure\nRestartSec=5\n\n[Install]\nWantedBy=multi-user.target\n",
    );
  });

  it("refuses what systemd would reject or misread", () => {
    expect(() => renderService({ description: "x", execStart: ["docker ps"] })).toThrow(/absolute path/);
    expect(() => renderService({ description: "x", execStart: ["/bin/a", "/bin/b"], type: "simple" })).toThrow(/only oneshot/);
    expect(() => renderService({ description: "x", execStart: [] })).toThrow(/at least one ExecStart/);
    expect(() => renderService({ description: "x", execStart: ["/bin/true"], environment: { A: 'x"y' } })).toThrow(/invalid Environment/);
  });
});
