#!/usr/bin/env bash
# Builds the programs of the sealed cluster network and of real Knative Eventing, or reuses them
# from the cache (the same cache root as build.sh, its own key, so neither invalidates the other).
#
# Output (last line of stdout): the directory holding
#   Knative Eventing v0.49.2, one binary per command (each registers its own informers at init, so
#   they cannot share one multi-call binary): controller, webhook, mtchannel_broker, broker_ingress,
#   broker_filter, in_memory_channel_controller, in_memory_channel_dispatcher, mtping,
#   apiserver_receive_adapter (named after their ko:// image path, `/` turned into `_`);
#   kube-proxy (k8s.io/kubernetes v1.36.1, the kubeplane module graph); coredns (v1.15.0, the
#   plugins a sealed cluster needs);
#   knative-config/ (the eventing module's own config/ for core, the MT channel broker and the
#   in-memory channel: what the harness installs).
# Keyed by a hash of every input (the three modules, this script, the Go version).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${STREAMER_OPERATOR_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/streamer-operator}"
tools="$here/tools"

inputs_hash="$(
  {
    go version
    cat "$0"
    cat "$tools"/eventing/go.mod "$tools"/eventing/go.sum
    cat "$tools"/kube-proxy/go.mod "$tools"/kube-proxy/go.sum
    cat "$tools"/coredns/go.mod "$tools"/coredns/go.sum "$tools"/coredns/main.go
  } | sha256sum | cut -c1-16
)"
out="$cache_root/knative-$inputs_hash"

if [[ -f "$out/.complete" ]]; then
  echo "knative binaries: cached in $out" >&2
  echo "$out"
  exit 0
fi

export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"
tmp="$out.partial.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS
step() { echo "knative build: $* ($((SECONDS - started))s)" >&2; }

eventing_commands=(
  controller webhook mtchannel_broker broker/ingress broker/filter
  in_memory/channel_controller in_memory/channel_dispatcher mtping apiserver_receive_adapter
)
build_eventing() {
  cd "$tools/eventing"
  local cmd
  for cmd in "${eventing_commands[@]}"; do
    step "knative.dev/eventing/cmd/$cmd"
    go build -ldflags "-s -w" -o "$tmp/${cmd//\//_}" "knative.dev/eventing/cmd/$cmd"
  done
  local dir
  dir="$(go list -m -f '{{.Dir}}' knative.dev/eventing)"
  mkdir -p "$tmp/knative-config"
  cp -r "$dir/config/core" "$tmp/knative-config/core"
  cp -r "$dir/config/brokers/mt-channel-broker" "$tmp/knative-config/mt-channel-broker"
  cp -r "$dir/config/channels/in-memory-channel" "$tmp/knative-config/in-memory-channel"
  chmod -R u+w "$tmp/knative-config"
}
build_kube_proxy() {
  cd "$tools/kube-proxy"
  go build -ldflags "-s -w \
    -X k8s.io/component-base/version.gitVersion=v1.36.1 \
    -X k8s.io/component-base/version.gitMajor=1 \
    -X k8s.io/component-base/version.gitMinor=36" -o "$tmp/kube-proxy" k8s.io/kubernetes/cmd/kube-proxy
}
build_coredns() {
  cd "$tools/coredns"
  go build -ldflags "-s -w" -o "$tmp/coredns" .
}

step "Knative Eventing v0.49.2 (a cold build takes minutes; the controller is the long one)"
(build_eventing)
step "kube-proxy v1.36.1"
(build_kube_proxy)
step "CoreDNS v1.15.0"
(build_coredns)
touch "$tmp/.complete"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
step "done in $out"
echo "$out"
