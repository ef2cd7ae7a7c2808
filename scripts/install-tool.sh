#!/usr/bin/env bash
# Packs the faultline command from this checkout into artifacts/tool and installs it from there alone
# (a NuGet config that lists only that folder: nothing is downloaded).
#   scripts/install-tool.sh           local tool of this repository (.config/dotnet-tools.json): `dotnet faultline ...`
#   scripts/install-tool.sh --global  global tool: `faultline ...` (~/.dotnet/tools on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  "") global=false ;;
  --global) global=true ;;
  *) echo "usage: scripts/install-tool.sh [--global]" >&2; exit 2 ;;
esac

out=artifacts/tool
rm -rf "$out"
dotnet pack src/Faultline.Cli -c Release -o "$out" -v q -nologo
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
cat > "$out/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="faultline" value="$PWD/$out" />
  </packageSources>
</configuration>
XML

# Every pack has the same version: drop the copy an earlier install left in the package cache, or it is used again.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/faultline.cli/$version"

if $global; then
  dotnet tool uninstall --global Faultline.Cli >/dev/null 2>&1 || true
  dotnet tool install --global Faultline.Cli --version "$version" --configfile "$out/nuget.config"
  echo "installed: faultline $version (global; ~/.dotnet/tools must be on PATH)"
else
  dotnet tool restore --configfile "$out/nuget.config"
  echo "installed: dotnet faultline $version (local to this repository)"
fi
