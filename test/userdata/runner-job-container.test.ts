// Both aws runner modes start the same job container from the same config fields: a job
// setting added once (schema, jobContainer, runner-config) reaches both config.toml files.
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { awsRunnersSection } from "../../config/schema/aws-runners";
import { runnerFleetConfigToml } from "../../userdata/runner-fleet-user-data";
import { jobContainer } from "../../userdata/runner-job-container";
import { runnerManagerConfigToml } from "../../userdata/runner-manager-user-data";

const TOKEN = { secretsManagerArn: "arn:aws:secretsmanager:eu-west-3:111111111111:secret:runner-AbCdEf" };
const JOB = { jobImage: "alpine:3.20", privileged: false, dockerAccess: "none" as const, jobMemory: "2g", jobCpus: "1" };

describe("jobContainer", () => {
  it("maps the job settings to [runners.docker], the socket only when asked", () => {
    expect(jobContainer(JOB)).toEqual({
      image: "alpine:3.20",
      privileged: false,
      pullPolicy: ["if-not-present"],
      volumes: ["/cache"],
      memory: "2g",
      cpus: "1",
    });
    expect(jobContainer({ ...JOB, dockerAccess: "socket" }).volumes).toEqual(["/cache", "/var/run/docker.sock:/var/run/docker.sock"]);
  });

  it("is what both modes write to config.toml", () => {
    const cpu = awsRunnersSection.parse({ version: "18.5.0", token: TOKEN, ...JOB });
    const jobs = awsRunnersSection.parse({ scaling: "jobs", version: "18.5.0", token: TOKEN, ...JOB });
    if (cpu.scaling !== "cpu" || jobs.scaling !== "jobs") throw new Error("expected one config per mode");
    const where = {
      region: "eu-west-3",
      gitlabUrl: "https://gitlab.example.com",
      cacheBucket: "cache",
      logGroups: { runner: "r", system: "s" },
      tokenSecretId: TOKEN.secretsManagerArn,
    };
    const cpuToml = parseToml(runnerFleetConfigToml({ ...where, settings: cpu, autoScalingGroupName: "g", runnerName: "n" })) as any;
    const jobsToml = parseToml(runnerManagerConfigToml({ ...where, settings: jobs, managerGroupName: "m", workerGroupName: "w" })) as any;
    expect(cpuToml.runners[0].docker).toEqual(jobsToml.runners[0].docker);
    expect(cpuToml.runners[0].docker).toMatchObject({ image: "alpine:3.20", privileged: false, memory: "2g", cpus: "1", volumes: ["/cache"] });
  });
});
