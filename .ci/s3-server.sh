#!/usr/bin/env bash
# Install (once) and start a local S3-protocol server for the files test suite:
# moto's server mode (https://docs.getmoto.org/en/latest/docs/server_mode.html),
# an in-memory S3 that speaks the real protocol (SigV4, multipart uploads,
# presigned URLs). Prints the `export` lines the tests read:
#   eval "$(.ci/s3-server.sh start)"   # BEEP_TEST_S3_ENDPOINT, ..._BUCKET, keys
#   .ci/s3-server.sh stop
# The bucket is created by the tests themselves; moto accepts any credentials.
set -euo pipefail

STATE_DIR="${BEEP_S3_STATE_DIR:-${TMPDIR:-/tmp}/beep-s3-server}"
PORT="${BEEP_S3_PORT:-9753}"
mkdir -p "$STATE_DIR"

install() {
  if ! command -v moto_server >/dev/null 2>&1; then
    echo "installing moto[server] with pip" >&2
    python3 -m pip install --quiet --user 'moto[server]>=5,<6' >&2 \
      || python3 -m pip install --quiet 'moto[server]>=5,<6' >&2
  fi
  command -v moto_server >/dev/null 2>&1 || export PATH="$HOME/.local/bin:$PATH"
  command -v moto_server >/dev/null 2>&1
}

start() {
  install
  if [ -f "$STATE_DIR/pid" ] && kill -0 "$(cat "$STATE_DIR/pid")" 2>/dev/null; then
    :
  else
    nohup moto_server -H 127.0.0.1 -p "$PORT" >"$STATE_DIR/log" 2>&1 &
    echo $! >"$STATE_DIR/pid"
  fi
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$PORT/moto-api/" >/dev/null 2>&1 \
      || (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      echo "export BEEP_TEST_S3_ENDPOINT=http://127.0.0.1:$PORT"
      echo "export BEEP_TEST_S3_REGION=us-east-1"
      echo "export BEEP_TEST_S3_ACCESS_KEY_ID=beep-test"
      echo "export BEEP_TEST_S3_SECRET_ACCESS_KEY=beep-test-secret"
      return 0
    fi
    sleep 0.1
  done
  echo "moto_server did not start; see $STATE_DIR/log" >&2
  return 1
}

stop() {
  if [ -f "$STATE_DIR/pid" ]; then
    kill "$(cat "$STATE_DIR/pid")" 2>/dev/null || true
    rm -f "$STATE_DIR/pid"
  fi
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 [install|start|stop]" >&2; exit 2 ;;
esac
