#!/usr/bin/env bash
# mypy with django-stubs on the verbs, the reads, the trail and the tasks ([tool.mypy] in
# pyproject.toml); `make lint` and `make test` run it. The Django plugin loads server.settings,
# which refuses to load without these; nothing connects to them.
set -euo pipefail
cd "$(dirname "$0")/.."
export SECRET_KEY="${SECRET_KEY:-typecheck-only}"
export DATABASE_URL="${DATABASE_URL:-postgres://localhost/typecheck-only}"
export REDIS_URL="${REDIS_URL:-redis://localhost/0}"
exec .venv/bin/mypy "$@"
