#!/usr/bin/env bash
# Until the first release, the schema is one initial migration regenerated from models.py.
# After release, every schema change gets its own `flask db migrate` revision instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*.py
DATABASE_URL="sqlite:///$tmp/regen.sqlite3" .venv/bin/flask --app surveyapp db migrate -m "initial schema" >/dev/null
ls migrations/versions/*.py
rm -rf "$tmp"
