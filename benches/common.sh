# Helpers the benchmark scripts share; sourced, never run.

# The fake GitHub server binary (the `fake_github_server` test target), built if needed.
fake_github_server() {
  cargo build --tests --message-format=json -q 2>/dev/null \
    | python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]=="fake_github_server" and m.get("executable"):
        print(m["executable"])'
}

# Run a command in the background and print its own peak RSS in KiB (VmHWM of that process,
# children excluded), sampled every 20 ms until it exits.
peak_rss_kib() {
  "$@" > /dev/null & local pid=$! peak=0 hwm
  while kill -0 "$pid" 2>/dev/null; do
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    sleep 0.02
  done
  wait "$pid"
  echo "$peak"
}
