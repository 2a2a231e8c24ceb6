#!/usr/bin/env bash
# Builds the local control plane's binaries, or reuses them from the cache.
#
# Output (last line of stdout): the directory holding
#   kubeplane + symlinks etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
#   kwok, apiserver_receive_adapter, kube-state-metrics, and kwok-stages/ (kwok's own stage
#   files, from its module)
# The directory is keyed by a hash of every build input (go.mod, go.sum, main.go, the Go
# version, this script), so a warm machine never rebuilds and a changed input never reuses a
# stale binary. Cache root: $STREAMER_OPERATOR_CACHE, else $XDG_CACHE_HOME/streamer-operator,
# else ~/.cache/streamer-operator. Progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${STREAMER_OPERATOR_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/streamer-operator}"
k8s_version="v1.36.1"

inputs_hash="$(
  {
    go version
    cat "$0"
    cat "$here"/kubeplane/go.mod "$here"/kubeplane/go.sum "$here"/kubeplane/main.go
    cat "$here"/tools/kwok/go.mod "$here"/tools/kwok/go.sum
    cat "$here"/tools/adapter/go.mod "$here"/tools/adapter/go.sum
    cat "$here"/tools/kube-state-metrics/go.mod "$here"/tools/kube-state-metrics/go.sum
  } | sha256sum | cut -c1-16
)"
out="$cache_root/bin-$inputs_hash"

if [[ -f "$out/.complete" ]]; then
  echo "control plane binaries: cached in $out" >&2
  echo "$out"
  exit 0
fi

export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"
tmp="$out.partial.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS

step() { echo "control plane build: $* ($((SECONDS - started))s)" >&2; }

build_kubeplane() {
  cd "$here/kubeplane"
  go build -ldflags "-s -w \
    -X k8s.io/component-base/version.gitVersion=$k8s_version \
    -X k8s.io/component-base/version.gitMajor=1 \
    -X k8s.io/component-base/version.gitMinor=36" -o "$tmp/kubeplane" .
}
build_kwok() {
  cd "$here/tools/kwok"
  go build -ldflags "-s -w" -o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok
  local dir
  dir="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  mkdir -p "$tmp/kwok-stages"
  cp "$dir"/kustomize/stage/node/fast/node-initialize.yaml \
     "$dir"/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
     "$dir"/kustomize/stage/pod/fast/pod-ready.yaml \
     "$dir"/kustomize/stage/pod/fast/pod-complete.yaml \
     "$dir"/kustomize/stage/pod/fast/pod-delete.yaml "$tmp/kwok-stages/"
}
build_adapter() {
  cd "$here/tools/adapter"
  go build -ldflags "-s -w" -o "$tmp/apiserver_receive_adapter" knative.dev/eventing/cmd/apiserver_receive_adapter
}

build_kube_state_metrics() {
  cd "$here/tools/kube-state-metrics"
  go build -ldflags "-s -w" -o "$tmp/kube-state-metrics" k8s.io/kube-state-metrics/v2
}

step "kwok (sigs.k8s.io/kwok v0.8.0)"
(build_kwok)
step "Knative ApiServerSource adapter (knative.dev/eventing v0.49.2)"
(build_adapter)
step "kube-state-metrics (k8s.io/kube-state-metrics/v2 v2.18.0; only the monitoring tests use it)"
(build_kube_state_metrics)
step "kubeplane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl ($k8s_version); a cold build takes about 6 minutes on 2 cores, plus module downloads"
(build_kubeplane)
for name in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  ln -s kubeplane "$tmp/$name"
done
touch "$tmp/.complete"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
step "done in $out"
echo "$out"
