#!/usr/bin/env bash
# Every tracked C file must be as clang-format (the tree's .clang-format) writes it.
# Fix with: git ls-files '*.c' '*.h' | xargs clang-format -i
set -u
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format is not installed (./build.sh deps)"; exit 1; }
bad=0
while IFS= read -r f; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f"
    bad=$((bad + 1))
  fi
done < <(git ls-files '*.c' '*.h' 2>/dev/null || find firmware media tests -name '*.[ch]')
echo "check-format: $bad file(s) need clang-format"
[ "$bad" -eq 0 ]
