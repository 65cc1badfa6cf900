# Sourced by .ci/run (and by contributors: `source scripts/use-node24.sh`): puts Node 24 first on PATH. When the
# machine's own `node` is older, Node 24 comes from the npm registry's `node@24` package (whose install step fetches
# the platform's `node-<os>-<arch>` package, also from the registry), installed once into .tools/node24; native
# addons are then built against its headers.
conflux_node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$conflux_node_major" -lt 24 ]; then
  conflux_tools="$(pwd)/.tools/node24"
  conflux_node=$(find "$conflux_tools" -type f -path '*/node-*/bin/node' 2>/dev/null | head -n 1)
  if [ -z "$conflux_node" ]; then
    npm install --prefix "$conflux_tools" --no-save --no-audit --no-fund --no-package-lock node@24 >/dev/null || return 1
    conflux_node=$(find "$conflux_tools" -type f -path '*/node-*/bin/node' | head -n 1)
  fi
  [ -n "$conflux_node" ] || return 1
  conflux_home=$(dirname "$(dirname "$conflux_node")")
  export PATH="$conflux_home/bin:$PATH"
  export npm_config_nodedir="$conflux_home"
fi
