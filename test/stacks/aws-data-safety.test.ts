// Data safety on aws: the GitLab instance is disposable, its data is not.
import { describe, expect, it } from "vitest";
import { hostScript, HOST_SCRIPTS } from "../../userdata/host-scripts";
import { exampleStack, exampleYaml, resources, synthEnvironment, validEnvironment } from "../helpers";

const base = exampleStack("staging");
const upgraded = (() => {
  const c = exampleYaml("staging");
  c.gitlab.version = "18.6.0-ce.0";
  return synthEnvironment(validEnvironment(c, "staging"));
})();

const only = (stack: typeof base, type: string) => {
  const entries = Object.entries(stack.resource[type] ?? {});
  expect(entries, type).toHaveLength(1);
  return entries[0]!;
};

describe("aws data safety", () => {
  it("a new GitLab version changes the instance's user data (a replacement) but not the data volume or its attachment", () => {
    const [instanceName, before] = only(base, "aws_instance");
    const [, after] = only(upgraded, "aws_instance");
    expect(after.user_data_base64).not.toBe(before.user_data_base64);
    expect(before.user_data_replace_on_change).toBe(true);

    const [volumeName, volume] = only(base, "aws_ebs_volume");
    expect(only(upgraded, "aws_ebs_volume")).toEqual([volumeName, volume]);
    expect(volume.lifecycle).toEqual({ prevent_destroy: true });

    const [attachmentName, attachment] = only(base, "aws_volume_attachment");
    const [upgradedAttachmentName, upgradedAttachment] = only(upgraded, "aws_volume_attachment");
    expect(upgradedAttachmentName).toBe(attachmentName);
    expect(upgradedAttachment).toEqual(attachment);
    expect(attachment).toMatchObject({
      device_name: "/dev/sdf",
      volume_id: `\${aws_ebs_volume.${volumeName}.id}`,
      instance_id: `\${aws_instance.${instanceName}.id}`,
      stop_instance_before_detaching: true,
    });
  });

  it("mounts the same volume at /var/opt/gitlab after a replacement, formatting it only if blank", () => {
    const script = hostScript("gitlab-bootstrap.sh");
    expect(script).toContain("readonly DATA_DIR=/var/opt/gitlab");
    expect(script).toMatch(/blkid -p "\$device"[\s\S]*if \[ "\$probe" -eq 2 \]; then[\s\S]*mkfs\.ext4/);
    // GitLab is installed only after the mount succeeded: a failed mount never leaves data on the root disk.
    expect(script.indexOf('mountpoint -q "$DATA_DIR"\n')).toBeGreaterThan(0);
    expect(script.indexOf('mountpoint -q "$DATA_DIR"\n')).toBeLessThan(script.indexOf('apt_get install -y -q "gitlab-ce='));
  });

  it("boots the replacement from the same image: the AMI comes from config, never from a newest-image lookup", () => {
    const [, before] = only(base, "aws_instance");
    const [, after] = only(upgraded, "aws_instance");
    expect(after.ami).toBe(before.ami);
    for (const stack of [base, upgraded]) {
      const lookups = Object.entries(stack.data?.aws_ami ?? {})
        .filter(([k]) => k.startsWith("gitlab-server"))
        .map(([, v]) => v as any);
      expect(lookups.map((l) => [l.most_recent, l.filter])).toEqual([[undefined, [{ name: "name", values: [exampleYaml("staging").aws.ami] }]]]);
    }
  });

  it("protects the Elastic IP and every data bucket, and snapshots the volume", () => {
    expect(only(base, "aws_eip")[1].lifecycle).toEqual({ prevent_destroy: true });
    const buckets = resources(base, "aws_s3_bucket");
    const dataBuckets = buckets.filter((b) => b.tags["gitlab-platform:purpose"] !== "cache");
    expect(dataBuckets.map((b) => b.tags["gitlab-platform:purpose"]).sort()).toEqual(["backups", "registry"]);
    for (const bucket of dataBuckets) expect(bucket).toMatchObject({ force_destroy: false, lifecycle: { prevent_destroy: true } });
    // Only the runners' cache, which a pipeline rebuilds, may be destroyed with its objects.
    expect(buckets.filter((b) => !dataBuckets.includes(b)).map((b) => b.bucket)).toEqual(["staging-gitlab-runner-cache"]);
    expect(only(base, "aws_ebs_volume")[1].final_snapshot).toBe(true);
  });

  it("no script the platform installs can prune or delete GitLab's data", () => {
    const dangerous = /(rm\s+-[a-z]*r[a-z]*\s+[^\n]*\/var\/opt\/gitlab|docker\s+(system|volume)\s+prune[^\n]*(--filter\s+all=true|-a\s+--volumes))/;
    for (const name of HOST_SCRIPTS) expect(hostScript(name), name).not.toMatch(dangerous);
    const userData = JSON.stringify(only(base, "aws_instance")[1]);
    expect(userData).not.toMatch(/docker system prune/);
  });
});
