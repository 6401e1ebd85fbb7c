#!/usr/bin/env bash
# Packs the engine into notebooks/packages, a local package feed, and writes notebooks/packages/load.dib, which the
# notebooks' first cell imports (#!import packages/load.dib): it adds this feed (#i "nuget:<its absolute path>": the
# kernel takes no relative feed) and loads the package (#r "nuget: PricingOptimizer.Engine, <version>"). Each pack gets
# a new prerelease version (0.1.0-local.<UTC time>), so the kernel never takes a stale copy from NuGet's cache. Run it
# again after changing the engine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
feed="$root/notebooks/packages"
version="0.1.0-local.$(date -u +%Y%m%d%H%M%S)"
rm -rf "$feed"
mkdir -p "$feed"
dotnet pack "$root/engine" -c Release -o "$feed" -p:PackageVersion="$version" --nologo -v quiet
printf '#!csharp\n\n#i "nuget:%s"\n#r "nuget: PricingOptimizer.Engine, %s"\n' "$feed" "$version" > "$feed/load.dib"
echo "packed PricingOptimizer.Engine $version into $feed"
