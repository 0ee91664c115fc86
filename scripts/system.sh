#!/usr/bin/env bash
# Check (and, as root on Debian, install) the system packages the project needs.
#   scripts/system.sh run    PostgreSQL 15 + PostGIS 3, Python venv, Pango and Noto
#                            fonts (WeasyPrint renders the zone check reports as PDF)
#   scripts/system.sh test   the same, plus Chromium for the page tests,
#                            poppler-utils (pdftotext, pdftoppm) to read the PDFs back
#                            and gdal-bin (ogr2ogr, to read the open-data files back)
#   scripts/system.sh bench  the same, plus wrk (pgbench comes with PostgreSQL); gdal-bin
#                            is also the import benchmark's reference
# Elsewhere it prints exactly what to install and fails.
set -euo pipefail
what=${1:-run}
missing=()

[ -x /usr/lib/postgresql/15/bin/initdb ] && [ -f /usr/share/postgresql/15/extension/postgis.control ] \
  || missing+=(postgresql-15-postgis-3)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
# WeasyPrint loads Pango (and HarfBuzz's font subsetter) at run time: package:soname.
libs=$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null || true)
for pair in libpango-1.0-0:libpango-1.0.so.0 libpangoft2-1.0-0:libpangoft2-1.0.so.0 \
            libharfbuzz-subset0:libharfbuzz-subset.so.0; do
  case "$libs" in *"${pair#*:}"*) ;; *) missing+=("${pair%%:*}") ;; esac
done
# Noto Sans: Vietnamese diacritics in the PDF reports (and the page tests).
[ -d /usr/share/fonts/truetype/noto ] || missing+=(fonts-noto-core)
if [ "$what" = bench ]; then
  command -v wrk >/dev/null || missing+=(wrk)
fi
if [ "$what" = test ] || [ "$what" = bench ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null || missing+=(poppler-utils)
  command -v ogr2ogr >/dev/null || missing+=(gdal-bin)
fi

[ ${#missing[@]} = 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "system: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

cat >&2 <<MSG
Missing system packages: ${missing[*]}
On Debian 12 / Ubuntu, as root:
    apt-get update && apt-get install -y ${missing[*]}
Elsewhere install the equivalents: PostgreSQL 15 with PostGIS 3 (server binaries in
/usr/lib/postgresql/15/bin, or set GIS_PG_BIN), Python 3.11+ with venv, and for the
tests Chromium at /usr/bin/chromium with Noto fonts; Pango 1.44+ for WeasyPrint
(PDF reports) and, for the tests, poppler's pdftotext/pdftoppm and GDAL's ogr2ogr.
Then run the command again.
MSG
exit 1
