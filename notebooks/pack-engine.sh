#!/usr/bin/env bash
# Packs the lake workbench (engine/Workbench and the projects it stands on: Core, Lake, Analysis, Reports) into a
# local package feed, notebooks/packages unless a folder is given, and writes load.dib there, which the notebooks'
# first cell imports (#!import packages/load.dib): it adds this feed (#i "nuget:<its absolute path>": the kernel takes
# no relative feed) and loads the package (#r "nuget: PricingOptimizer.Workbench, <version>"). Each pack gets a new
# prerelease version (0.1.0-local.<UTC time>), so the kernel never takes a stale copy from NuGet's cache. Run it again
# after changing the engine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
feed="$(realpath -m "${1:-$root/notebooks/packages}")"
version="0.1.0-local.$(date -u +%Y%m%d%H%M%S)"
rm -rf "$feed"
mkdir -p "$feed"
for project in Core Lake Analysis Reports Workbench; do
  dotnet pack "$root/engine/$project/$project.csproj" -c Release -o "$feed" -p:PackageVersion="$version" --nologo -v quiet
done
printf '#!csharp\n\n#i "nuget:%s"\n#r "nuget: PricingOptimizer.Workbench, %s"\n' "$feed" "$version" > "$feed/load.dib"
echo "packed PricingOptimizer.Workbench $version into $feed"
