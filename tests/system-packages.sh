#!/usr/bin/env bash
# Debian packages the tests need, as "command:package" pairs: installs the missing ones with apt-get when this
# is root on Debian, else prints the one command to run and fails, so `make test` never half-runs.
set -uo pipefail
missing=()
for pair in "$@"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  if [[ $cmd == /* ]]; then compgen -G "$cmd" >/dev/null && continue; else command -v "$cmd" >/dev/null && continue; fi
  missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >/tmp/airflow-ingest-apt.log 2>&1 && exit 0
  echo "apt-get failed; its output is in /tmp/airflow-ingest-apt.log" >&2
fi
echo "the tests need these Debian packages: run  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
exit 1
