// Reads one small file out of a running container through the Docker Engine API on a unix
// socket (GET /containers/<name>/archive: a tar of the file). For where there is a socket but
// no docker CLI: the pipeline's deploy jobs get the host's socket in an image without one.
import { request } from "node:http";

/** The unix socket DOCKER_HOST names (unix://…), or Docker's default; undefined for ssh:// or tcp://. */
export function engineSocket(vars: NodeJS.ProcessEnv = process.env): string | undefined {
  const host = vars.DOCKER_HOST;
  if (!host) return "/var/run/docker.sock";
  return host.startsWith("unix://") ? host.slice("unix://".length) : undefined;
}

/** The first file of a tar archive: its content, as the archive endpoint returns one file. */
function firstTarFile(tar: Buffer): Buffer {
  if (tar.length < 512) throw new Error("the engine returned no archive");
  const size = Number.parseInt(tar.subarray(124, 136).toString("latin1").replace(/\0.*$/s, "").trim(), 8);
  if (!Number.isFinite(size)) throw new Error("the engine's archive has no readable file size");
  return tar.subarray(512, 512 + size);
}

/** The content of `file` in `container`, through the engine at `socket`; rejects with the engine's message. */
export function readContainerFile(socket: string, container: string, file: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: socket, path: `/containers/${encodeURIComponent(container)}/archive?path=${encodeURIComponent(file)}`, method: "GET", timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          if (res.statusCode !== 200) {
            let message = body.toString("utf8").trim();
            try {
              message = (JSON.parse(message) as { message?: string }).message ?? message;
            } catch {
              // not JSON: the text as it is
            }
            reject(new Error(`${message || `HTTP ${res.statusCode}`}`));
            return;
          }
          try {
            resolve(firstTarFile(body).toString("utf8"));
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from the Docker engine at ${socket}`)));
    req.on("error", reject);
    req.end();
  });
}
