#!/usr/bin/env bash
# `make test`, what CI runs: lint, dependency audit, migration check, then pytest against real
# PostgreSQL and Redis. Every step must pass; pytest's exit code is ours (5, no tests, fails too).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

if [[ "${1:-}" != --with-services ]]; then
    # Browser tests drive Debian's Chromium; bulletins render with WeasyPrint (Pango,
    # HarfBuzz's subsetter, the Noto CJK and HanaMin fonts: audits/rendering/fonts.py) and
    # tests read them back with poppler; the catalogue test extracts strings with xgettext;
    # the ODK tests bundle Enketo with Node.
    "$bin/python" scripts/services.py packages chromium fonts-noto-cjk fonts-hanazono \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils gettext nodejs
    # The ODK tests' real client, Enketo, from the npm registry: installed from the lock file
    # when missing or when the lock file changed; nothing is downloaded while tests run.
    enketo=tests/odk/enketo
    if [[ ! $enketo/node_modules/.package-lock.json -nt $enketo/package-lock.json ]]; then
        (cd "$enketo" && npm ci --no-audit --no-fund --loglevel=error)
    fi
    "$bin/ruff" check .
    "$bin/ruff" format --check .
    scripts/typecheck.sh
    # A reported vulnerability fails the run; a vulnerability service that cannot be reached
    # (offline machines) is only a warning, so work offline is not blocked.
    if ! audit=$("$bin/pip-audit" --progress-spinner off -r requirements.txt 2>&1); then
        if grep -qi "known vulnerabilit" <<<"$audit"; then
            echo "$audit" >&2
            exit 1
        fi
        echo "WARNING: pip-audit could not reach its vulnerability service; audit skipped" >&2
    fi
    # One set of servers for both steps below; services.py stops private ones afterwards.
    exec "$bin/python" scripts/services.py run --mode test -- "$0" --with-services "$@"
fi
shift

python manage.py makemigrations --check --dry-run
exec pytest "$@"
