// The cert-manager chart's values when the platform installs it: its CRDs with it (kept if
// the release is ever removed, so certificates are not deleted with them), and DNS-01
// checks against public resolvers, so a homelab's split DNS does not hide the TXT record.
import type { HelmValues } from "./values";

export function certManagerChartValues(): HelmValues {
  return {
    crds: { enabled: true, keep: true },
    extraArgs: ["--dns01-recursive-nameservers-only", "--dns01-recursive-nameservers=1.1.1.1:53,9.9.9.9:53"],
  };
}
