#!/usr/bin/env bash
# Fetch real high-resolution (>= 3 MP) photographs from Debian packages, for benchmarks.
#
#   bench/fetch_hires.sh OUTDIR [--include-sa] [--include-lgpl]
#
# Default: 8 photos, CC-BY-4.0 or CC0-1.0, 4.5-15.9 MP (JPEG, no EXIF), from Debian 12's
#          lomiri-wallpapers-16.04 (15.8 MB .deb).
# --include-sa    adds 4 CC-BY-SA-4.0 photos from the same package (6.2-13.4 MP).
# --include-lgpl  adds 11 photos, 2560x1600 (4.1 MP), from plasma-workspace-wallpapers
#                 (94 MB .deb; LGPL-3 per each wallpaper's metadata.json, GPL-2+ per the Debian
#                 copyright file). Includes one grayscale JPEG (Grey) and one dark night scene
#                 (DarkestHour).
#
# Nothing is installed: `apt-get download` + `dpkg-deb -x` into a temp dir (works as non-root; runs
# `apt-get update` once if the package lists are empty). Files are copied unmodified and checked
# against pinned sha256 sums (a mismatch is a warning: a newer package may re-encode them).
# OUTDIR/SOURCES.tsv lists file, package, original path, author, licence. Do not commit the photos.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR [--include-sa] [--include-lgpl]" >&2; exit 2; }
[ $# -ge 1 ] || usage
OUT=$1; shift
SA=0; LGPL=0
for a in "$@"; do
  case "$a" in
    --include-sa) SA=1 ;;
    --include-lgpl) LGPL=1 ;;
    *) usage ;;
  esac
done

# package | path inside the .deb | output name | author | licence | sha256 | group
MANIFEST='
lomiri-wallpapers-16.04|usr/share/backgrounds/Picture_0B_by_freespace.jpg|lomiri_Picture_0B_by_freespace.jpg|Trevor "Freespace"|CC-BY-4.0|c8c0ab18e48d9e0419fe42881112137f3afafc27dfddc29ec3a6d54c56d225ad|base
lomiri-wallpapers-16.04|usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg|lomiri_Wine_by_Jakkub_Mede.jpg|Jakub Mede|CC-BY-4.0|d2e96e6d4da40dd804b3d0ce295e94de04a2d7d9b6785d42cd9d92ba58bced74|base
lomiri-wallpapers-16.04|usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg|lomiri_aitzgorri_by_Aitzol_Berasategi.jpg|Aitzol Berasategi|CC-BY-4.0|66268e7b48f8854d36a28765fac6e23ec1aee251daa6da1f64715f201020ad36|base
lomiri-wallpapers-16.04|usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg|lomiri_friends_by_Aitzol_Berasategi.jpg|Aitzol Berasategi|CC-BY-4.0|cc40e313c74e421edffe3403def413c16878ce14661cce7ec5915baeab35538d|base
lomiri-wallpapers-16.04|usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg|lomiri_life_by_Aitzol_Berasategi.jpg|Aitzol Berasategi|CC-BY-4.0|4c119350ead80201fe256850c3d316309ddfb4bdf10b235ce982dcde0c667c05|base
lomiri-wallpapers-16.04|usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg|lomiri_picosdeeuropa_by_Aitzol_Berasategi.jpg|Aitzol Berasategi|CC-BY-4.0|414d0072b2f6f2c555deafeaef6e45c4fed6fa9ad26eba6560ca8803959cf97a|base
lomiri-wallpapers-16.04|usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg|lomiri_seeding_by_Clements_Engelhardt.jpg|Clemens Engelhardt|CC0-1.0|a5634d1ab5e41a3568e92d4a894a500c92b891f9ff734e50bd224d6e185a605f|base
lomiri-wallpapers-16.04|usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg|lomiri_sunset_by_Aitzol_Berasategi.jpg|Aitzol Berasategi|CC-BY-4.0|474dab6a4b9f94dc76c29dfe30e9f5db4af0fd2e33fe5d695f8152b371efca18|base
lomiri-wallpapers-16.04|usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg|lomiri_Bridge_by_Sander_Klootwijk.jpg|Sander Klootwijk|CC-BY-SA-4.0|bd86b081f9975e2b83527f71e49b9271a8ab40885428395969d9f7d834d7f050|sa
lomiri-wallpapers-16.04|usr/share/backgrounds/Dragonfly_by_Bolly.jpg|lomiri_Dragonfly_by_Bolly.jpg|"Bolly"|CC-BY-SA-4.0|af5af17841009732def24b09bb1e669a1b09d2b4bdeee7812c371101c30d2bb3|sa
lomiri-wallpapers-16.04|usr/share/backgrounds/free_by_Peter_Nerlich.jpg|lomiri_free_by_Peter_Nerlich.jpg|Peter Nerlich|CC-BY-SA-4.0|85a5453c2fed514c75973016f3d862aca62eb7ca087618822469274ac1092373|sa
lomiri-wallpapers-16.04|usr/share/backgrounds/greentock_by_Peter_Nerlich.jpg|lomiri_greentock_by_Peter_Nerlich.jpg|Peter Nerlich|CC-BY-SA-4.0|e7b20e2db9dcd6e2b278ca55873c2110b35d89cd38b04d0b18728726888e6889|sa
plasma-workspace-wallpapers|usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg|plasma_BytheWater.jpg|Maciej Wiklo|LGPL-3 (metadata.json); GPL-2+ (debian/copyright)|c272434ef39f2abf1ed48a15a8910088020f3165329a5092f3940ec9464bc05f|lgpl
plasma-workspace-wallpapers|usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg|plasma_ColdRipple.jpg|Risto Saukonpää|LGPL-3 (metadata.json); GPL-2+ (debian/copyright)|05bef6722fc0ed81292cceb3ed026c38d17e510f3c84be7d68610c2b1a723c3f|lgpl
plasma-workspace-wallpapers|usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg|plasma_ColorfulCups.jpg|Dmitri Popov|LGPL-3 (metadata.json); GPL-2+ (debian/copyright)|6e0f3a72feb5a4a9fec191b77e34874c3c69e2d93040deb3f07773e73385023d|lgpl
plasma-workspace-wallpapers|usr/share/wallpapers/DarkestHour/contents/images/2560x1600.jpg|plasma_DarkestHour.jpg|Risto Saukonpää|LGPL-3 (metadata.json); GPL-2+ (debian/copyright)|8e3703fae3a3c217b1fc2b399b706cd3720584268d071ba153e4809daa55f1ce|lgpl
plasma-workspace-wallpapers|usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg|plasma_EveningGlow.jpg|Ian Hex|LGPL-3 (metadata.json); GPL-2+ (debian/copyright)|586682dcb362b9f620068f10138f87d0d3649939aef238adc5807cb951976a7a|lgpl
plasma-workspace-wallpapers|usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg|plasma_FallenLeaf.jpg|Martin Klapetek|LGPL-3 (metadata.json); GPL-2+ (debian/copyright)|95603a6560c7e8d50e0e03b3f4adbe39c5258c72528e74e4ecaea1daf4e499de|lgpl
plasma-workspace-wallpapers|usr/share/wallpapers/Grey/contents/images/2560x1600.jpg|plasma_Grey.jpg|Sigi Sagi|LGPL-3 (metadata.json); GPL-2+ (debian/copyright)|88c31d8944b7e6935d1b9a296654c692f0772cb512491713eb30a972a604c0ed|lgpl
plasma-workspace-wallpapers|usr/share/wallpapers/Kite/contents/images/2560x1600.jpg|plasma_Kite.jpg|Risto Saukonpää|LGPL-3 (metadata.json); GPL-2+ (debian/copyright)|bdca288ce296a981e80659c021cf707caddc702c0c8d4247e60bd618476d47f8|lgpl
plasma-workspace-wallpapers|usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg|plasma_OneStandsOut.jpg|Risto Saukonpää|LGPL-3 (metadata.json); GPL-2+ (debian/copyright)|cb507baf1dafdcae362264f3aba9483ed4be5f6c9fdd770f0ec0920c6d9e80fd|lgpl
plasma-workspace-wallpapers|usr/share/wallpapers/Path/contents/images/2560x1600.jpg|plasma_Path.jpg|Risto Saukonpää|LGPL-3 (metadata.json); GPL-2+ (debian/copyright)|7477457d7f17b736259f1b021864778ad4ba802cf3214e6728181ff29126bba8|lgpl
plasma-workspace-wallpapers|usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg|plasma_summer_1am.jpg|Risto Saukonpää|LGPL-3 (metadata.json); GPL-2+ (debian/copyright)|c868b50789591dd42910153c768053f1ba0a98cb36bbfc2b7a96a1045d0477f8|lgpl
'

want_group() {
  case "$1" in
    base) return 0 ;;
    sa) [ "$SA" = 1 ] ;;
    lgpl) [ "$LGPL" = 1 ] ;;
  esac
}

PKGS=$(printf '%s\n' "$MANIFEST" | while IFS='|' read -r pkg _ _ _ _ _ grp; do
  if [ -n "$pkg" ] && want_group "$grp"; then echo "$pkg"; fi; done | sort -u)

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

cd "$TMP"
for pkg in $PKGS; do
  if ! apt-get download "$pkg" >/dev/null 2>"$TMP/err"; then
    echo "apt-get download $pkg failed; running apt-get update once" >&2
    apt-get update -qq
    apt-get download "$pkg" >/dev/null
  fi
  deb=$(ls "$TMP"/"$pkg"_*.deb)
  mkdir -p "$TMP/x/$pkg"
  dpkg-deb -x "$deb" "$TMP/x/$pkg"
  echo "extracted $(basename "$deb")" >&2
done

printf 'file\tpackage\toriginal_path\tauthor\tlicence\n' > "$OUT/SOURCES.tsv"
n=0; bad=0
while IFS='|' read -r pkg path name author lic sum grp; do
  [ -n "$pkg" ] || continue
  want_group "$grp" || continue
  src="$TMP/x/$pkg/$path"
  if [ ! -f "$src" ]; then echo "warning: $pkg has no $path" >&2; bad=$((bad+1)); continue; fi
  cp -L "$src" "$OUT/$name"
  got=$(sha256sum "$OUT/$name" | cut -d' ' -f1)
  [ "$got" = "$sum" ] || echo "warning: $name sha256 differs from the pinned one (package updated?)" >&2
  printf '%s\t%s\t/%s\t%s\t%s\n' "$name" "$pkg" "$path" "$author" "$lic" >> "$OUT/SOURCES.tsv"
  n=$((n+1))
done <<< "$MANIFEST"

for pkg in $PKGS; do
  cp "$TMP/x/$pkg/usr/share/doc/$pkg/copyright" "$OUT/COPYRIGHT.$pkg"
done
echo "wrote $n photos to $OUT (see SOURCES.tsv)" >&2
[ "$bad" = 0 ]
