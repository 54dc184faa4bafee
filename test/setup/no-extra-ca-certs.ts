// vitest globalSetup: the run's processes start without NODE_EXTRA_CA_CERTS. Node reads and
// parses that file before anything else on every start: a machine that points it at the
// system bundle (this one: 144 certificates) makes each node process cost ~40 ms more than the
// ~25 it takes otherwise (perf stat `node -e 0`), and a run starts some ninety of them. Nothing
// in the tests speaks TLS: their servers are plain HTTP on 127.0.0.1. The workers and every
// process they start inherit the change; the run's end puts the variable back.
export default function setup(): () => void {
  const before = process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS;
  return () => {
    if (before !== undefined) process.env.NODE_EXTRA_CA_CERTS = before;
  };
}
