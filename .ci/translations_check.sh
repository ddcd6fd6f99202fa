#!/usr/bin/env bash
# The English translation is up to date with the sources: makemessages, run on a copy of the
# committed tree, must find no string that the committed .po leaves untranslated or fuzzy.
# (tests/broker/test_translations.py checks the committed .po and .mo themselves.)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v xgettext >/dev/null || ! command -v msgattrib >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null
fi
copy="$(mktemp -d)"
trap 'rm -rf "$copy"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$copy"
project="$PWD"
(cd "$copy" && "$project/.venv/bin/python" manage.py makemessages -l en --no-obsolete --verbosity 0)
po="$copy/locale/en/LC_MESSAGES/django.po"
missing="$(msgattrib --untranslated --no-wrap "$po" | grep -c '^msgid ' || true)"
fuzzy="$(msgattrib --only-fuzzy --no-wrap "$po" | grep -c '^msgid ' || true)"
# Each count includes the header entry when there is anything at all.
if [ "$missing" -gt 0 ] || [ "$fuzzy" -gt 0 ]; then
  echo "Strings in the sources without an English translation (run makemessages -l en, translate, compilemessages):"
  msgattrib --untranslated --no-wrap "$po" | grep -A1 '^#:' | head -n 60
  msgattrib --only-fuzzy --no-wrap "$po" | grep -A1 '^#:' | head -n 60
  exit 1
fi
echo "English translation up to date: every string of the sources is translated."
