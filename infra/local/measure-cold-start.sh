#!/usr/bin/env bash
# Measures what a newcomer waits for: a fresh clone of this repository, an
# empty Go build cache, `make run`, and the seconds until /healthz answers
# 200. Then it stops the stack and removes everything it made.
#
#   infra/local/measure-cold-start.sh                  # Go module and npm caches kept
#   infra/local/measure-cold-start.sh --empty-modcache # both empty too, as on a
#                                                      # fresh machine
#
# QUNYUN_ADDR (default 127.0.0.1:3990) is the gateway address it polls.
set -euo pipefail
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
addr=${QUNYUN_ADDR:-127.0.0.1:3990}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/repo"
export GOCACHE=$work/gocache QUNYUN_ADDR=$addr
if [[ ${1:-} == --empty-modcache ]]; then
	export GOMODCACHE=$work/gomodcache GOFLAGS="${GOFLAGS:-} -modcacherw" npm_config_cache=$work/npmcache
fi
cd "$work/repo"
start=$(date +%s.%N)
setsid make run >"$work/run.log" 2>&1 &
pid=$!
stop() { kill -INT -- "-$pid" 2>/dev/null || true; sleep 3; kill -KILL -- "-$pid" 2>/dev/null || true; }
until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$addr/healthz") == 200 ]]; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "make run stopped before /healthz answered:" >&2
		tail -20 "$work/run.log" >&2
		exit 1
	fi
	sleep 0.5
done
end=$(date +%s.%N)
stop
printf 'healthz 200 after %.1f s (load average %s)\n' "$(echo "$end - $start" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
