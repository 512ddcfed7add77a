#!/bin/sh
# Runs in a Job after Harbor is installed: makes one proxy-cache project per upstream registry, so that nodes pull
# docker.io, quay.io and registry.k8s.io images through Harbor (one download per image for the whole cluster).
# Idempotent: an endpoint or project that exists is left as it is. POSIX sh (the Job runs a curl image).
# Environment: HARBOR_URL (in-cluster API base), HARBOR_USER, HARBOR_PASSWORD (from a Secret), PROXIES
# ("name type url" per line: the project name, Harbor's registry type and the upstream URL).
set -eu

# The credentials reach curl as a config on stdin (printf is a shell builtin): never on a command line, which
# every process on the node could read.
api() {
  method=$1 path=$2
  shift 2
  printf 'user = "%s:%s"\n' "$HARBOR_USER" "$HARBOR_PASSWORD" |
    curl --config - --silent --show-error --fail --max-time 20 --retry 30 --retry-delay 10 --retry-all-errors \
      -H "Content-Type: application/json" -X "$method" "$HARBOR_URL/api/v2.0$path" "$@"
}

printf '%s\n' "$PROXIES" | while read -r name type url; do
  [ -n "$name" ] || continue
  if ! api GET "/registries?q=name%3D$name" | grep -q "\"name\":\"$name\""; then
    api POST /registries --data "{\"name\":\"$name\",\"type\":\"$type\",\"url\":\"$url\",\"insecure\":false}" >/dev/null
    echo "harbor-proxy-cache: registry endpoint $name -> $url"
  fi
  registry_id=$(api GET "/registries?q=name%3D$name" | tr ',' '\n' | sed -n 's/^.*"id":\([0-9][0-9]*\).*$/\1/p' | head -n 1)
  [ -n "$registry_id" ] || { echo "harbor-proxy-cache: ERROR: no id for registry $name" >&2; exit 1; }
  if ! api GET "/projects?name=$name" | grep -q "\"name\":\"$name\""; then
    api POST /projects --data "{\"project_name\":\"$name\",\"registry_id\":$registry_id,\"metadata\":{\"public\":\"true\"}}" >/dev/null
    echo "harbor-proxy-cache: proxy-cache project $name"
  fi
done
echo "harbor-proxy-cache: done"
