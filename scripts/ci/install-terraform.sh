#!/usr/bin/env bash
# Installs a pinned Terraform release in CI, verified against HashiCorp's SHA256SUMS, into a
# directory the job's user can write: the deploy runner's shell jobs do not run as root.
#   scripts/ci/install-terraform.sh 1.11.4 [<directory>]
# The directory: the second argument, else $TERRAFORM_INSTALL_DIR, else ~/.local/bin. Put
# it first on PATH (the pipeline's `.terraform` before_script does).
# Needs bash, curl, sha256sum, unzip (busybox's do), mktemp, uname.
set -euo pipefail

version="${1:?usage: install-terraform.sh <version> [<directory>]}"
dir="${2:-${TERRAFORM_INSTALL_DIR:-$HOME/.local/bin}}"

current=$(terraform version 2> /dev/null | head -n1 || true)
if [ "$current" = "Terraform v$version" ]; then
  echo "install-terraform: terraform $version already installed ($(command -v terraform))"
  exit 0
fi

arch=$(uname -m)
case "$arch" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-terraform: unsupported architecture $arch" >&2; exit 1 ;;
esac

mkdir -p "$dir"
[ -w "$dir" ] || { echo "install-terraform: cannot write to $dir; pass a directory this user can write" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
base="https://releases.hashicorp.com/terraform/$version"
zip="terraform_${version}_linux_${arch}.zip"
curl -fsSL --retry 3 -o "$work/$zip" "$base/$zip"
curl -fsSL --retry 3 -o "$work/SHA256SUMS" "$base/terraform_${version}_SHA256SUMS"
(cd "$work" && grep " $zip\$" SHA256SUMS | sha256sum -c -)
unzip -o -q "$work/$zip" -d "$dir" terraform
"$dir/terraform" version

if [ "$(command -v terraform || true)" != "$dir/terraform" ]; then
  echo "install-terraform: note: $dir is not first on PATH; run 'export PATH=\"$dir:\$PATH\"'" >&2
fi
