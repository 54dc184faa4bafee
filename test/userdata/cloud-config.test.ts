import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { renderCloudConfig } from "../../userdata/cloud-config";

describe("cloud-config renderer", () => {
  const doc = renderCloudConfig({
    packages: ["docker"],
    writeFiles: [
      { path: "/etc/app.conf", permissions: "0600", content: "a: 1\nkey: 'quoted: #not-a-comment'\n" },
      { path: "/usr/local/bin/run", permissions: "0755", content: "#!/usr/bin/env bash\necho hi\n", defer: true },
    ],
    runcmd: [["/usr/local/bin/run", "--flag", "value with spaces"]],
  });

  it("starts with #cloud-config and round-trips every file byte for byte", () => {
    expect(doc.split("\n")[0]).toBe("#cloud-config");
    const parsed = parse(doc);
    expect(parsed.write_files[0]).toEqual({ path: "/etc/app.conf", owner: "root:root", permissions: "0600", content: "a: 1\nkey: 'quoted: #not-a-comment'\n" });
    expect(parsed.write_files[1].defer).toBe(true);
    expect(parsed.runcmd).toEqual([["/usr/local/bin/run", "--flag", "value with spaces"]]);
    expect(parsed.package_update).toBe(true);
    expect(parsed.packages).toEqual(["docker"]);
  });

  it("uses only real cloud-config keys", () => {
    expect(Object.keys(parse(doc)).sort()).toEqual(["package_update", "packages", "runcmd", "write_files"]);
  });

  it("refuses relative paths and bad permissions", () => {
    expect(() => renderCloudConfig({ writeFiles: [{ path: "etc/x", permissions: "0644", content: "" }], runcmd: [] })).toThrow(/absolute/);
    expect(() => renderCloudConfig({ writeFiles: [{ path: "/etc/x", permissions: "644", content: "" }], runcmd: [] })).toThrow(/permissions/);
  });
});
