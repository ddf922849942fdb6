#!/usr/bin/env bash
# Run before `npm test` (npm's pretest): the cluster tests start their own `redis-server`, a test validates
# docker-compose.yml with Debian's `docker-compose`, and the web app's tests drive Debian's `chromium` (through
# playwright-core, which downloads no browser). Installs what is missing when it can (root with apt-get);
# otherwise says what to install and lets the tests report it.
set -uo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "test tools: installing ${need[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null || echo "test tools: could not install ${need[*]}" >&2
else
  echo "test tools: missing ${need[*]}; install them (e.g. sudo apt-get install -y ${need[*]}) or the cluster, compose and browser tests fail or skip" >&2
fi
exit 0
