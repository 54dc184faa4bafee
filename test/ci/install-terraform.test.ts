// Runs scripts/ci/install-terraform.sh against a fake `curl` (serving a fake release and its
// SHA256SUMS) and a fake `unzip`: Terraform lands where the job's user can write, verified.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers";

const SCRIPT = join(REPO_ROOT, "scripts/ci/install-terraform.sh");
const VERSION = "1.11.4";
const ARCH = process.arch === "arm64" ? "arm64" : "amd64";
const ZIP = `terraform_${VERSION}_linux_${ARCH}.zip`;

/** A fake Terraform binary: what the fake release "zip" holds (the fake unzip copies it). */
const fakeTerraform = (version: string) => `#!/bin/sh\necho "Terraform v${version}"\necho "on linux_${ARCH}"\n`;

function setup(opts: { sums?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "install-tf-"));
  const bin = join(dir, "fakebin");
  const releases = join(dir, "releases");
  mkdirSync(bin);
  mkdirSync(releases);
  const zip = fakeTerraform(VERSION);
  writeFileSync(join(releases, ZIP), zip);
  const sha = createHash("sha256").update(zip).digest("hex");
  writeFileSync(join(releases, `terraform_${VERSION}_SHA256SUMS`), opts.sums ?? `${"0".repeat(64)}  terraform_${VERSION}_linux_s390x.zip\n${sha}  ${ZIP}\n`);
  const curlLog = join(dir, "curl.log");
  writeFileSync(
    join(bin, "curl"),
    `#!/bin/sh
out=""; url=""
while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift 2 ;; -*) shift ;; *) url="$1"; shift ;; esac; done
echo "$url" >> "${curlLog}"
cp "${releases}/$(basename "$url")" "$out"
`,
  );
  // `unzip -o -q ZIP -d DIR terraform`: the fake "zip" is the binary itself.
  writeFileSync(
    join(bin, "unzip"),
    `#!/bin/sh
zip=""; dest=""
while [ $# -gt 0 ]; do case "$1" in -d) dest="$2"; shift 2 ;; -*) shift ;; *) [ -z "$zip" ] && zip="$1"; shift ;; esac; done
cp "$zip" "$dest/terraform" && chmod 755 "$dest/terraform"
`,
  );
  chmodSync(join(bin, "curl"), 0o755);
  chmodSync(join(bin, "unzip"), 0o755);
  const home = join(dir, "home");
  mkdirSync(home);
  const run = (args: string[], env: Record<string, string> = {}, path = "") => {
    const r = spawnSync("bash", [SCRIPT, ...args], { encoding: "utf8", env: { HOME: home, PATH: `${path}${bin}:/usr/bin:/bin`, ...env } });
    return { ...r, curls: existsSync(curlLog) ? readFileSync(curlLog, "utf8").trim().split("\n") : [] };
  };
  return { dir, home, run };
}

describe("install-terraform.sh", () => {
  it("installs the verified release into the directory given, not /usr/local/bin", () => {
    const { dir, run } = setup();
    const target = join(dir, "project/.bin");
    const r = run([VERSION, target], {}, `${target}:`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.curls).toEqual([
      `https://releases.hashicorp.com/terraform/${VERSION}/${ZIP}`,
      `https://releases.hashicorp.com/terraform/${VERSION}/terraform_${VERSION}_SHA256SUMS`,
    ]);
    expect(readFileSync(join(target, "terraform"), "utf8")).toBe(fakeTerraform(VERSION));
    expect(r.stdout).toContain(`${ZIP}: OK`);
    expect(r.stdout).toContain(`Terraform v${VERSION}`);
    expect(r.stderr).not.toContain("not first on PATH");
    expect(readFileSync(SCRIPT, "utf8")).not.toContain("/usr/local/bin");
  });

  it("takes the directory from TERRAFORM_INSTALL_DIR, else ~/.local/bin, and says when it is not on PATH", () => {
    const a = setup();
    const fromEnv = a.run([VERSION], { TERRAFORM_INSTALL_DIR: join(a.dir, "from-env") });
    expect(fromEnv.status, fromEnv.stderr).toBe(0);
    expect(existsSync(join(a.dir, "from-env/terraform"))).toBe(true);
    expect(fromEnv.stderr).toContain(`${join(a.dir, "from-env")} is not first on PATH`);

    const b = setup();
    const byDefault = b.run([VERSION]);
    expect(byDefault.status, byDefault.stderr).toBe(0);
    expect(existsSync(join(b.home, ".local/bin/terraform"))).toBe(true);
  });

  it("downloads nothing when that version is already on PATH, and replaces another version", () => {
    const { dir, run } = setup();
    const target = join(dir, ".bin");
    mkdirSync(target);
    writeFileSync(join(target, "terraform"), fakeTerraform(VERSION), { mode: 0o755 });
    const same = run([VERSION, target], {}, `${target}:`);
    expect(same.status, same.stderr).toBe(0);
    expect(same.stdout).toContain(`terraform ${VERSION} already installed`);
    expect(same.curls).toEqual([]);

    writeFileSync(join(target, "terraform"), fakeTerraform("1.9.0"), { mode: 0o755 });
    const other = run([VERSION, target], {}, `${target}:`);
    expect(other.status, other.stderr).toBe(0);
    expect(other.curls).toHaveLength(2);
    expect(readFileSync(join(target, "terraform"), "utf8")).toBe(fakeTerraform(VERSION));
  });

  it("refuses a download whose checksum does not match, or that SHA256SUMS does not list", () => {
    for (const sums of [`${"f".repeat(64)}  ${ZIP}\n`, `${"f".repeat(64)}  terraform_${VERSION}_linux_s390x.zip\n`]) {
      const { dir, run } = setup({ sums });
      const target = join(dir, ".bin");
      const r = run([VERSION, target]);
      expect(r.status).not.toBe(0);
      expect(existsSync(join(target, "terraform"))).toBe(false);
    }
  });
});
