#!/usr/bin/env bash
# Formatting guard: every C source and header of the project (build and
# dependency folders, and obj-*/ of an in-tree package build, aside)
# matches the committed .clang-format, as Debian's clang-format 14
# applies it. Usage: check_format.sh SOURCE_DIR
# To fix a file: clang-format-14 -i FILE
set -u
src=$1
fmt=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z $fmt ]]; then
  echo "format: clang-format-14 is not installed"; echo "format: 0 passed, 1 failed"; exit 1
fi
mapfile -t files < <(cd "$src" && find . \( -name '.git' -o -name 'build*' -o -name node_modules \
  -o -name 'fuzz-out' -o -name 'litecord-voice-state' -o -name 'obj-*' \) -prune -o -name '*.[ch]' -print | sort)
bad=()
for f in "${files[@]}"; do
  "$fmt" --dry-run --Werror "$src/$f" >/dev/null 2>&1 || bad+=("${f#./}")
done
if ((${#bad[@]})); then
  echo "FAIL: ${#bad[@]} of ${#files[@]} files differ from .clang-format (fix: clang-format-14 -i FILE):"
  printf '  %s\n' "${bad[@]}"
  echo "format: 0 passed, 1 failed"; exit 1
fi
echo "format: ${#files[@]} files match .clang-format"
echo "format: 1 passed, 0 failed"
