#!/usr/bin/env bash
# `make run`: idsvc and the mock WeChat on loopback with embedded defaults, a demo member and a
# demo platform API key.  Every default can be overridden with the IDSVC_* variables (README).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${IDSVC_PORT:-8000}
MOCK_PORT=${MOCK_WECHAT_PORT:-8001}
export IDSVC_ENV=${IDSVC_ENV:-development}
export IDSVC_PUBLIC_URL=${IDSVC_PUBLIC_URL:-http://127.0.0.1:$PORT}
export IDSVC_WECHAT_APPID=${IDSVC_WECHAT_APPID:-wx_dev_appid}
export IDSVC_WECHAT_SECRET=${IDSVC_WECHAT_SECRET:-dev_secret}
export IDSVC_WECHAT_API_BASE=${IDSVC_WECHAT_API_BASE:-http://127.0.0.1:$MOCK_PORT/}
export IDSVC_WECHAT_OAUTH_BASE=${IDSVC_WECHAT_OAUTH_BASE:-http://127.0.0.1:$MOCK_PORT/connect/}
# One secret for this run, shared by the CLI calls below and the server.
export IDSVC_SECRET_KEY=${IDSVC_SECRET_KEY:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')}
mkdir -p var
# The audit chain is keyed (README "Audit log"): keep one development key across runs, so the chain
# written by earlier runs keeps verifying although the secret key above is new each time.
if [[ -z "${IDSVC_AUDIT_KEY:-}" ]]; then
  [[ -s var/audit.key ]] || (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))' >var/audit.key)
  IDSVC_AUDIT_KEY=$(cat var/audit.key)
fi
export IDSVC_AUDIT_KEY
# Bring the database up to the code before anything uses it (production refuses instead: README "Upgrading").
.venv/bin/idsvc db upgrade >&2

.venv/bin/python -m mock_wechat --host 127.0.0.1 --port "$MOCK_PORT" >var/mock_wechat.log 2>&1 &
MOCK_PID=$!
trap 'kill $MOCK_PID 2>/dev/null || true' EXIT INT TERM

.venv/bin/idsvc member add --member-id demo-member --name 演示会员 --id-number 110101199003078515 --association 11 >/dev/null 2>&1 || true
KEY=$(.venv/bin/idsvc apikey create --name "demo $(date +%F_%T)" --role platform)

cat <<EOT
idsvc is starting (Ctrl-C stops both servers):
  service        $IDSVC_PUBLIC_URL            (health: $IDSVC_PUBLIC_URL/healthz)
  desktop demo   $IDSVC_PUBLIC_URL/demo
  API document   $IDSVC_PUBLIC_URL/v1/openapi.json
  mock WeChat    http://127.0.0.1:$MOCK_PORT   (log: var/mock_wechat.log)
  demo member    demo-member
  demo API key   $KEY
  database       ${IDSVC_DATABASE_URL:-sqlite:///var/idsvc.sqlite3}
  redis          ${IDSVC_REDIS_URL:-in-process (fakeredis): set IDSVC_REDIS_URL for a real server}
Try:  curl -s -X POST $IDSVC_PUBLIC_URL/v1/sessions -H "Authorization: Bearer $KEY" \\
        -H 'Content-Type: application/json' -d '{"member_id": "demo-member", "purpose": "login"}'
EOT
.venv/bin/idsvc serve --host 127.0.0.1 --port "$PORT"
