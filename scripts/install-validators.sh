#!/usr/bin/env bash
# Installs the Debian packages that provide the validators `npm run verify` runs on generated
# artifacts. Idempotent: a binary already on PATH is not reinstalled, and apt is not touched at
# all when every one is present (CI runs this on every build).
set -euo pipefail

# binary:package — the binary verify or the tests run, and the Debian package that ships it.
# The AWS CLI by full path: the host script tests use Debian's, whatever `aws` PATH finds first.
readonly VALIDATORS=(
  cloud-init:cloud-init
  shellcheck:shellcheck
  ruby:ruby
  promtool:prometheus
  amtool:prometheus-alertmanager
  systemd-analyze:systemd
  logrotate:logrotate
  sshd:openssh-server
  # Tests that need real Docker behaviour start a private dockerd (test/support/docker-engine.ts)
  # with busybox-static as the only image; firewall rules go through iptables-restore --test.
  dockerd:docker.io
  busybox:busybox-static
  iptables-restore:iptables
  ip:iproute2
  # What a script really opens (the backup's O_DIRECT read-back).
  strace:strace
  /usr/bin/aws:awscli
  # The warm AWS CLI's client (test/support/warm-aws-cli-client.c), compiled per test run.
  cc:gcc
)

# systemd-analyze & co. may live in sbin dirs that a non-root PATH lacks.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

missing=()
for pair in "${VALIDATORS[@]}"; do
  binary=${pair%%:*}
  package=${pair#*:}
  if command -v "$binary" > /dev/null 2>&1; then
    echo "install-validators: $binary already installed ($(command -v "$binary"))"
  else
    missing+=("$package")
  fi
done
# Debian's AWS CLI by its own path: the kubernetes secrets-export test runs it against a local
# recorder, and another `aws` earlier on PATH must not stand in for it.
if [ -x /usr/bin/aws ]; then echo "install-validators: aws already installed (/usr/bin/aws)"; else missing+=(awscli); fi
# The C library's headers, which gcc only recommends (and this installs without recommends).
if [ -e /usr/include/stdio.h ]; then echo "install-validators: C headers already installed (/usr/include)"; else missing+=(libc6-dev); fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-validators: all validators present, nothing to install"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo > /dev/null 2>&1; then
    echo "install-validators: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi

echo "install-validators: installing ${missing[*]}"
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

# Fail here, not later in verify, if a package did not provide what we expected.
for pair in "${VALIDATORS[@]}"; do
  binary=${pair%%:*}
  command -v "$binary" > /dev/null 2>&1 || { echo "install-validators: $binary still missing after install" >&2; exit 1; }
done
[ -x /usr/bin/aws ] || { echo "install-validators: /usr/bin/aws still missing after install" >&2; exit 1; }
[ -e /usr/include/stdio.h ] || { echo "install-validators: the C headers (/usr/include/stdio.h) still missing after install" >&2; exit 1; }
echo "install-validators: done"
