// CI build jobs must not reach the LAN (the NAS, whose export trusts the Docker host; the
// router; the host's own services), only GitLab and the registry through the host's published
// ports, and the internet. Checked on a real Docker engine with its iptables rules, in a
// network namespace of its own standing in for the Docker host, wired to two more namespaces:
//
//   LAN  192.168.77.0/24: the "NAS" at .10 (a web server on 2049 stands for its export)
//   WAN  203.0.113.0/24:  an "internet" server at .10
//   host: a service on 0.0.0.0:2200 (e.g. its sshd) and "Traefik" published on 443
//
// Build jobs run on Docker's default bridge (docker0), as the build runner starts them. The
// firewall is the homelab stack's: its rules files and keeper script as uploaded into its
// container, run in the host's network namespace as that container (host network) runs them.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { exampleStack, resources } from "../examples";
import { BUSYBOX_IMAGE, busyboxBin, describeWithDockerEngine, type DockerEngine } from "../support/docker-engine";

const stack = exampleStack("homelab");
const firewall = resources(stack, "docker_container").find((c) => c.name === "gitlab-jobs-firewall");
const uploaded = (path: string) => unescapeTemplate(firewall.upload.find((u: any) => u.file === path).content as string);

const sh = (args: string[]) => {
  const r = spawnSync(args[0] as string, args.slice(1), { encoding: "utf8", env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

/** A namespace linked to the Docker host's by a veth pair: host side .1, far side .10. */
function linkNamespace(hostNs: string, ns: string, subnet: string, hostIf: string): void {
  sh(["ip", "netns", "add", ns]);
  sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
  sh(["ip", "link", "add", hostIf, "netns", hostNs, "type", "veth", "peer", "name", "eth0", "netns", ns]);
  sh(["ip", "-n", hostNs, "addr", "add", `${subnet}.1/24`, "dev", hostIf]);
  sh(["ip", "-n", hostNs, "link", "set", hostIf, "up"]);
  sh(["ip", "-n", ns, "addr", "add", `${subnet}.10/24`, "dev", "eth0"]);
  sh(["ip", "-n", ns, "link", "set", "eth0", "up"]);
}

/** busybox httpd in a namespace, answering `name` on `port`. */
function serve(ns: string, port: number, root: string, name: string): ChildProcess {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "index.html"), `${name}\n`);
  return spawn("nsenter", [`--net=/run/netns/${ns}`, "/bin/busybox", "httpd", "-f", "-p", `0.0.0.0:${port}`, "-h", root], { stdio: "ignore" });
}

/**
 * A build job on the default bridge, left running: the probes exec into it, each a new
 * connection from the job's network namespace (a container per probe cost ~15 times the CPU).
 */
const JOB = "build-job";

/**
 * What the build job gets from ip:port: the server's name, or "" when it cannot connect.
 * Asynchronous: a test's probes are independent connections, made at the same time.
 */
async function fromJob(engine: DockerEngine, ip: string, port: number): Promise<string> {
  const r = await engine.dockerAsync(["exec", JOB, "sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} ${port} | tail -n 1`]);
  return r.stdout.trim();
}

function runKeeper(engine: DockerEngine, args: string[]) {
  const dir = join(engine.scratch, "keeper");
  mkdirSync(dir, { recursive: true });
  const bin = busyboxBin(join(engine.scratch, "bin"));
  const files: Record<string, string> = {};
  for (const u of firewall.upload as { file: string }[]) {
    const local = join(dir, u.file.replace(/\//g, "_"));
    writeFileSync(local, uploaded(u.file));
    files[u.file] = local;
  }
  const script = Object.entries(files).find(([path]) => path.startsWith("/usr/local/bin/"))?.[1] as string;
  const env = Object.fromEntries((firewall.env as string[]).map((e) => e.split("=", 2) as [string, string]));
  // The container's paths, mapped to the copies here.
  for (const [k, v] of Object.entries(env)) if (files[v]) env[k] = files[v] as string;
  return spawnSync("nsenter", [`--net=/run/netns/${engine.netns}`, join(bin, "sh"), script, ...args], {
    encoding: "utf8",
    env: { ...env, PATH: `${bin}:/usr/sbin:/sbin:/usr/bin:/bin` },
  });
}

/**
 * The homelab's networks around engine `e`: a LAN with a NAS, the internet, a service on the
 * host, "Traefik" publishing the host's 443, and a job container on docker0. The servers it
 * starts in the namespaces go into `servers` as they start (the caller kills them).
 */
async function buildNetworks(e: DockerEngine, lan: string, wan: string, servers: ChildProcess[]): Promise<void> {
  const hostNs = e.netns as string;
  linkNamespace(hostNs, lan, "192.168.77", "lan0");
  linkNamespace(hostNs, wan, "203.0.113", "wan0");
  servers.push(serve(lan, 2049, join(e.scratch, "nas"), "nas"));
  servers.push(serve(wan, 80, join(e.scratch, "internet"), "internet"));
  servers.push(serve(hostNs, 2200, join(e.scratch, "host-service"), "host-service"));
  // "Traefik": on the platform's own network, published on the host's 443.
  mkdirSync(join(e.scratch, "traefik"));
  writeFileSync(join(e.scratch, "traefik", "index.html"), "traefik\n");
  e.dockerOk(["network", "create", "--subnet", "172.30.0.0/24", "gitlab"]);
  // The two containers start at the same time: each start is mostly waiting on dockerd.
  await Promise.all([
    e.dockerOkAsync([
      "run",
      "-d",
      "--name",
      "traefik",
      "--network",
      "gitlab",
      "-p",
      "443:80",
      "-v",
      `${join(e.scratch, "traefik")}:/www:ro`,
      BUSYBOX_IMAGE,
      "httpd",
      "-f",
      "-p",
      "80",
      "-h",
      "/www",
    ]),
    e.dockerOkAsync(["run", "-d", "--name", JOB, BUSYBOX_IMAGE, "sleep", "3600"]),
  ]);
  // On docker0, as the build runner starts its jobs.
  expect(e.dockerOk(["inspect", "--format", "{{range $n, $_ := .NetworkSettings.Networks}}{{$n}} {{end}}", JOB])).toBe("bridge");
}

describeWithDockerEngine(
  "build jobs' egress on a real engine",
  (engine) => {
    const servers: ChildProcess[] = [];
    const lan = () => `${engine().netns}-lan`;
    const wan = () => `${engine().netns}-wan`;

    beforeAll(async () => {
      await buildNetworks(engine(), lan(), wan(), servers);
    }, 60_000);

    afterAll(() => {
      for (const s of servers) s.kill("SIGKILL");
      for (const ns of [lan(), wan()]) spawnSync("ip", ["netns", "delete", ns]);
    });

    it("without the firewall, a job reaches the NAS and the host's services (the defect)", async () => {
      const [nas, hostService] = await Promise.all([fromJob(engine(), "192.168.77.10", 2049), fromJob(engine(), "172.17.0.1", 2200)]);
      expect(nas).toBe("nas");
      expect(hostService).toBe("host-service");
    }, 60_000);

    it("with the homelab's firewall, a job reaches the internet and GitLab through Traefik's published port, and nothing on the LAN or the host", async () => {
      const applied = runKeeper(engine(), ["apply"]);
      expect(applied.status, `${applied.stdout}${applied.stderr}`).toBe(0);
      const platformIp = engine().dockerOk(["inspect", "--format", "{{.NetworkSettings.Networks.gitlab.IPAddress}}", "traefik"]);
      const [internet, traefik, nas, router, hostService, platform] = await Promise.all([
        fromJob(engine(), "203.0.113.10", 80),
        fromJob(engine(), "172.17.0.1", 443),
        fromJob(engine(), "192.168.77.10", 2049),
        fromJob(engine(), "192.168.77.1", 2200),
        fromJob(engine(), "172.17.0.1", 2200),
        // The platform's private network, directly.
        fromJob(engine(), platformIp, 80),
      ]);
      expect(internet).toBe("internet");
      expect(traefik).toBe("traefik");
      expect(nas).toBe("");
      expect(router).toBe("");
      expect(hostService).toBe("");
      expect(platform).toBe("");
    }, 120_000);

    it("applies idempotently, says it is in place, and puts the rules back when something flushes them", async () => {
      expect(runKeeper(engine(), ["apply"]).status).toBe(0);
      const rules = sh(["nsenter", `--net=/run/netns/${engine().netns}`, "iptables", "-S"]);
      expect(rules.match(/-j GITLAB-JOBS-FORWARD/g)).toHaveLength(1);
      expect(rules.match(/-j GITLAB-JOBS-INPUT/g)).toHaveLength(1);
      expect(runKeeper(engine(), ["check"]).status).toBe(0);
      sh(["nsenter", `--net=/run/netns/${engine().netns}`, "iptables", "-F", "DOCKER-USER"]);
      expect(runKeeper(engine(), ["check"]).status).not.toBe(0);
      expect(await fromJob(engine(), "192.168.77.10", 2049)).toBe("nas");
      expect(runKeeper(engine(), ["apply"]).status).toBe(0);
      expect(await fromJob(engine(), "192.168.77.10", 2049)).toBe("");
    }, 120_000);
  },
  { netns: true },
);
