#!/usr/bin/env bash
# Installs a pinned Terraform release in CI, verified against HashiCorp's SHA256SUMS.
#   scripts/ci/install-terraform.sh 1.11.4
set -euo pipefail

version="${1:?usage: install-terraform.sh <version>}"
if command -v terraform > /dev/null && terraform version | head -n1 | grep -q "v$version\$"; then
  echo "install-terraform: terraform $version already installed"
  exit 0
fi

arch=$(uname -m)
case "$arch" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-terraform: unsupported architecture $arch" >&2; exit 1 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
base="https://releases.hashicorp.com/terraform/$version"
zip="terraform_${version}_linux_${arch}.zip"
curl -fsSL --retry 3 -o "$work/$zip" "$base/$zip"
curl -fsSL --retry 3 -o "$work/SHA256SUMS" "$base/terraform_${version}_SHA256SUMS"
(cd "$work" && grep " $zip\$" SHA256SUMS | sha256sum -c -)
unzip -o -q "$work/$zip" -d /usr/local/bin terraform
terraform version
