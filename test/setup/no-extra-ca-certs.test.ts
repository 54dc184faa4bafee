// The run's processes start without NODE_EXTRA_CA_CERTS (no-extra-ca-certs.ts).
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";
import setup from "./no-extra-ca-certs";

it("removes NODE_EXTRA_CA_CERTS for the processes the run starts, and puts it back after", () => {
  const outer = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = "/etc/ssl/certs/ca-certificates.crt";
  try {
    const teardown = setup();
    const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.env.NODE_EXTRA_CA_CERTS))"], { encoding: "utf8" });
    expect(child.stdout).toBe("undefined");
    teardown();
    expect(process.env.NODE_EXTRA_CA_CERTS).toBe("/etc/ssl/certs/ca-certificates.crt");
  } finally {
    if (outer === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = outer;
  }
});

it("leaves a run without the variable without it", () => {
  const outer = process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS;
  try {
    setup()();
    expect("NODE_EXTRA_CA_CERTS" in process.env).toBe(false);
  } finally {
    if (outer !== undefined) process.env.NODE_EXTRA_CA_CERTS = outer;
  }
});

it("is in vitest.config's globalSetup: this worker started without the variable", () => {
  expect(process.env.NODE_EXTRA_CA_CERTS).toBeUndefined();
});
