#!/usr/bin/env bash
# Offline checks of the deployment files (no container engine, no cluster): `helm lint --strict` and
# `helm template` of deploy/helm/slo-scout (default values, and with the ServiceMonitor and every
# existing-Secret reference on), the rendered manifests validated against the Kubernetes schemas npm's
# kubernetes-models ships, and deploy/compose.yml against the Compose Specification's JSON schema (from
# the compose-go module, the one `docker compose config` validates with). The semantic checks (env keys,
# pinned images, healthchecks, roles) are test/deploy/stack.test.ts in `npm test`.
#
# The tools are fetched once into the cache dir scripts/services.sh uses (Go is at /usr/local/go/bin/go):
# helm built from the Go module proxy (go install; several minutes of CPU the first time), the schema file
# out of compose-go's module zip, kubernetes-models with npm into a folder of its own.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${SLO_SCOUT_SERVICES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slo-scout}"
HELM_VERSION=v4.3.2
COMPOSE_GO_VERSION=v2.17.0
KUBERNETES_MODELS="kubernetes-models@5.1.0 @kubernetes-models/prometheus-operator@6.0.0"
export PATH="/usr/local/go/bin:$PATH"

helm_bin="$CACHE_DIR/bin/helm-$HELM_VERSION"
if [ ! -x "$helm_bin" ]; then
  mkdir -p "$CACHE_DIR/bin"
  gobin=$(mktemp -d)
  GOBIN="$gobin" go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  mv "$gobin/helm" "$helm_bin"
  rmdir "$gobin"
fi

schema="$CACHE_DIR/compose-spec/$COMPOSE_GO_VERSION/compose-spec.json"
if [ ! -s "$schema" ]; then
  mkdir -p "$(dirname "$schema")"
  # The module asks for a newer Go than may be installed; only its zip (which go mod download keeps even
  # then) is needed, so its error is not fatal.
  zip=$(go mod download -json "github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION" |
    node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s).Zip))') || true
  # Python's zipfile rather than unzip, which a plain machine may lack.
  python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
    "$zip" "github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION/schema/compose-spec.json" >"$schema"
fi

models="$CACHE_DIR/kubernetes-models"
if [ "$(cat "$models/.versions" 2>/dev/null)" != "$KUBERNETES_MODELS" ]; then
  rm -rf "$models"
  mkdir -p "$models"
  # shellcheck disable=SC2086 # one word per package
  npm install --prefix "$models" --no-audit --no-fund --loglevel=error $KUBERNETES_MODELS >/dev/null
  echo "$KUBERNETES_MODELS" >"$models/.versions"
fi

chart="$ROOT/deploy/helm/slo-scout"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$helm_bin" lint --strict "$chart"
"$helm_bin" template slo-scout "$chart" >"$out/default.yaml"
"$helm_bin" template slo-scout "$chart" --set serviceMonitor.enabled=true --set github.appId=123456 \
  --set github.existingSecret=slo-scout-github --set gitlab.existingSecret=slo-scout-gitlab \
  --set gitlab.project=acme/shop --set slack.existingSecret=slo-scout-slack \
  --set receivers.autoscaling.enabled=false >"$out/everything.yaml"
node "$ROOT/scripts/deploy/validate.mjs" "$schema" "$models" "$ROOT/deploy/compose.yml" \
  "$out/default.yaml" "$out/everything.yaml"
