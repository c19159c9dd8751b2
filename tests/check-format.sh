#!/usr/bin/env bash
# Every tracked C file must be as clang-format (the tree's .clang-format) writes it.
# Fix with: git ls-files '*.c' '*.h' | xargs clang-format -i
# One clang-format for all files (3 s here; one process per file took 47-58 s of a CI slot).
set -u
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format is not installed (./build.sh deps)"; exit 1; }
files=()
while IFS= read -r f; do files+=("$f"); done < <(git ls-files '*.c' '*.h' 2>/dev/null || find firmware media tests -name '*.[ch]')
if [ "${#files[@]}" -eq 0 ]; then
  echo "check-format: no C files found"
  exit 1
fi
out="$(clang-format --dry-run --Werror "${files[@]}" 2>&1)"
rc=$?
# Its complaints read "FILE:LINE:COL: error: code should be clang-formatted".
bad="$(printf '%s\n' "$out" | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u)"
if [ -n "$bad" ]; then
  printf 'not formatted: %s\n' $bad
elif [ "$rc" -ne 0 ]; then
  printf '%s\n' "$out" | head -20 # not a formatting complaint: clang-format itself failed
fi
n=$(printf '%s' "$bad" | grep -c . || true)
echo "check-format: $n file(s) need clang-format (${#files[@]} checked)"
[ "$rc" -eq 0 ]
