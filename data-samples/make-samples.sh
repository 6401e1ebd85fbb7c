#!/usr/bin/env bash
# Regenerates the sample CSVs and the sample lake from the seeded demand settings in this folder:
#   bash data-samples/make-samples.sh        (from the repository root)
# The same settings give the same events; only the lake's ingested_at times differ from run to run.
set -euo pipefail
cd "$(dirname "$0")/.."
po() { dotnet run --project pipelines -c Release --no-launch-profile -- "$@"; }
rm -rf data-samples/lake data-samples/csv
mkdir -p data-samples/csv
end=2026-11-01T00:00:00Z
po simulate --settings data-samples/demand.json --experiment checkout-price --csv data-samples/csv/acme-checkout-price.csv --end $end
po simulate --settings data-samples/bundle-demand.json --experiment bundle-price --csv data-samples/csv/acme-bundle-price.csv --end $end
po simulate --settings data-samples/annual-demand.json --experiment annual-plan --csv data-samples/csv/globex-annual-plan.csv --end $end
po import --tenant acme --csv data-samples/csv/acme-checkout-price.csv --lake data-samples/lake
po import --tenant acme --csv data-samples/csv/acme-bundle-price.csv --lake data-samples/lake
po import --tenant globex --csv data-samples/csv/globex-annual-plan.csv --lake data-samples/lake
