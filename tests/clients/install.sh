#!/usr/bin/env bash
# Install the stock client libraries the gateway tests use as referees of wire
# compatibility: discord.py 2.7 (PyPI) in a virtualenv and discord.js 14 (npm).
# Idempotent; prints nothing on success but the paths. Exit 1 when a registry or
# an interpreter is missing, so the test can skip (or fail when CI=true).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${BEEP_CLIENTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/beep-clients}"
mkdir -p "$dest"

if [ ! -x "$dest/venv/bin/python" ] || ! "$dest/venv/bin/python" -c 'import discord, sys; sys.exit(0 if discord.__version__.startswith("2.7") else 1)' 2>/dev/null; then
  python3 -m venv "$dest/venv"
  "$dest/venv/bin/pip" install --quiet --disable-pip-version-check 'discord.py>=2.7,<2.8'
fi

if [ ! -f "$dest/node/node_modules/discord.js/package.json" ]; then
  mkdir -p "$dest/node"
  (cd "$dest/node" && npm install --silent --no-audit --no-fund --no-save 'discord.js@^14' >/dev/null)
fi

echo "python=$dest/venv/bin/python"
echo "node_path=$dest/node/node_modules"
echo "scripts=$here"
