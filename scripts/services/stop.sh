#!/usr/bin/env bash
# Stops the service(s) started into RUN_DIR by scripts/services/*.sh and removes RUN_DIR.
#   scripts/services/stop.sh [--keep] RUN_DIR...
# Processes listed in RUN_DIR/pids get SIGTERM (in reverse start order), then
# SIGKILL after 15 s. Leftover mounts under RUN_DIR (dockerd) are unmounted.
set -euo pipefail
keep=0
[[ "${1:-}" == --keep ]] && { keep=1; shift; }
[[ $# -ge 1 ]] || { echo "usage: $0 [--keep] RUN_DIR..." >&2; exit 2; }

# alive PID: running and not a zombie
alive() { local st; st="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" && [[ -n "$st" && "$st" != Z ]]; }

stop_one() {
  local dir="$1"
  [[ -d "$dir" ]] || { echo "stop.sh: $dir: no such directory (already stopped?)" >&2; return 0; }
  dir="$(cd "$dir" && pwd)"
  [[ -f "$dir/.opsdeck-service" ]] || { echo "stop.sh: $dir is not a service run dir (no .opsdeck-service marker); refusing" >&2; return 1; }
  local pids=() line pid
  if [[ -f "$dir/pids" ]]; then
    while read -r pid _; do [[ -n "$pid" ]] && pids=("$pid" "${pids[@]}"); done < "$dir/pids"
  fi
  # dockerd: kill running containers first; on SIGTERM dockerd would give each
  # one its stop timeout (10 s by default) before killing it.
  if [[ -S "$dir/docker.sock" ]]; then
    local id
    for id in $(curl -fsS --max-time 5 --unix-socket "$dir/docker.sock" http://localhost/containers/json 2>/dev/null \
                | grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4); do
      curl -fsS --max-time 5 --unix-socket "$dir/docker.sock" -X POST "http://localhost/containers/$id/kill" >/dev/null 2>&1 || true
    done
  fi
  for pid in "${pids[@]}"; do
    # only signal a process that still runs and still belongs to this run dir
    if alive "$pid" && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir"; then
      kill -TERM "$pid" 2>/dev/null || true
      local deadline=$(( $(date +%s) + 15 ))
      while alive "$pid" && (( $(date +%s) < deadline )); do sleep 0.1; done
      if alive "$pid"; then
        echo "stop.sh: $pid did not exit after SIGTERM; SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  done
  # Stragglers left in a service's session (each service was started with
  # setsid, so its session id is its PID): e.g. dockerd's managed containerd
  # and shims if dockerd itself had to be killed.
  local p sid st
  for p in /proc/[0-9]*; do
    st="$(cat "$p/stat" 2>/dev/null)" || continue
    st="${st##*) }"                     # fields after "pid (comm) "
    sid="$(echo "$st" | awk '{print $4}')"
    for pid in "${pids[@]}"; do
      if [[ "$sid" == "$pid" && "${p#/proc/}" != "$$" ]] && alive "${p#/proc/}"; then
        echo "stop.sh: leftover process ${p#/proc/} in session $pid; SIGKILL" >&2
        kill -KILL "${p#/proc/}" 2>/dev/null || true
      fi
    done
  done
  # dockerd normally unmounts its overlay/netns mounts itself; clean up after a crash.
  local m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r)
  if [[ $keep == 1 ]]; then
    echo "stop.sh: stopped; kept $dir" >&2
  else
    rm -rf "$dir"
  fi
}
rc=0
for d in "$@"; do stop_one "$d" || rc=1; done
exit $rc
