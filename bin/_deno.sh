# Sourced by the launchers: finds a suitable Deno, or installs the pinned one from npm into .tools/.
# Sets DENO (the binary) and IOPKT_ROOT (the checkout).
DENO_PINNED=2.9.6
if [ -z "${IOPKT_ROOT:-}" ]; then
  IOPKT_ROOT=$(readlink -f "${BASH_SOURCE[0]}")
  IOPKT_ROOT=${IOPKT_ROOT%/bin/*}
fi
export DENO_NO_UPDATE_CHECK=1

deno_is_suitable() { # a Deno 2.x no older than the pinned minor
  local v
  v=$("$1" --version 2>/dev/null | head -n 1 | awk '{print $2}') || return 1
  case "$v" in
    2.*) [ "$(echo "$v" | cut -d. -f2)" -ge "$(echo "$DENO_PINNED" | cut -d. -f2)" ] ;;
    *) return 1 ;;
  esac
}

find_deno() {
  local local_deno="$IOPKT_ROOT/.tools/node_modules/.bin/deno"
  if [ -n "${DENO_BIN:-}" ] && deno_is_suitable "$DENO_BIN"; then DENO=$DENO_BIN; return 0; fi
  # The copy we installed is known by its package.json: no need to run it to ask its version.
  # (read with builtins only: every fork here is paid on each tool run)
  if [ -x "$local_deno" ] && [ -f "$IOPKT_ROOT/.tools/node_modules/deno/package.json" ]; then
    local line
    while IFS= read -r line; do
      if [[ $line == *"\"version\": \"$DENO_PINNED\""* ]]; then DENO=$local_deno; return 0; fi
    done <"$IOPKT_ROOT/.tools/node_modules/deno/package.json"
  fi
  if command -v deno >/dev/null 2>&1 && deno_is_suitable "$(command -v deno)"; then
    DENO=$(command -v deno); return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "io-pkt: no suitable deno on PATH and no npm to install deno@$DENO_PINNED" >&2
    return 1
  fi
  echo "io-pkt: installing deno@$DENO_PINNED from npm into $IOPKT_ROOT/.tools" >&2
  mkdir -p "$IOPKT_ROOT/.tools"
  (cd "$IOPKT_ROOT/.tools" && npm install --no-fund --no-audit --loglevel=error \
    --prefix "$IOPKT_ROOT/.tools" "deno@$DENO_PINNED" >&2) || return 1
  # npm may skip the package's postinstall; the platform package carries the real binary.
  if ! deno_is_suitable "$local_deno"; then
    local platform_bin
    platform_bin=$(find "$IOPKT_ROOT/.tools/node_modules/@deno" -name deno -type f 2>/dev/null | head -n 1)
    [ -n "$platform_bin" ] && ln -sf "$platform_bin" "$local_deno"
  fi
  deno_is_suitable "$local_deno" || { echo "io-pkt: deno install failed" >&2; return 1; }
  DENO=$local_deno
}
find_deno || exit 1
