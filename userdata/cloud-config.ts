// Renders a `#cloud-config` document (cloud-init) from a typed model, via the yaml library.
import { stringify } from "yaml";

export interface WriteFile {
  readonly path: string;
  readonly content: string;
  /** Octal permissions, e.g. '0600'. */
  readonly permissions: string;
  readonly owner?: string;
  /** Written after packages are installed (cloud-init's `defer`), for files a package would own. */
  readonly defer?: boolean;
}

export interface CloudConfig {
  readonly packages?: readonly string[];
  readonly writeFiles: readonly WriteFile[];
  /** Commands run once, in order, as argv lists (no shell parsing surprises). */
  readonly runcmd: readonly (readonly string[])[];
}

export function renderCloudConfig(c: CloudConfig): string {
  for (const f of c.writeFiles) {
    if (!f.path.startsWith("/")) throw new Error(`write_files path must be absolute: '${f.path}'`);
    if (!/^0[0-7]{3}$/.test(f.permissions)) throw new Error(`invalid permissions '${f.permissions}' for ${f.path}`);
  }
  const doc: Record<string, unknown> = {};
  if (c.packages && c.packages.length > 0) {
    doc.package_update = true;
    doc.packages = [...c.packages];
  }
  doc.write_files = c.writeFiles.map((f) => ({
    path: f.path,
    owner: f.owner ?? "root:root",
    permissions: f.permissions,
    ...(f.defer ? { defer: true } : {}),
    content: f.content,
  }));
  doc.runcmd = c.runcmd.map((argv) => [...argv]);
  return `#cloud-config\n${stringify(doc, { lineWidth: 0, blockQuote: "literal" })}`;
}
