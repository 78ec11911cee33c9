#!/usr/bin/env bash
# Architecture guard: the rules of docs/ARCHITECTURE.md that a machine can
# check. Usage: check_layout.sh SOURCE_DIR BUILD_DIR
set -u
src=$1 build=$2
fail=0

# Front ends as folder:symbol-prefix (the folder is also the CMake target).
FRONTENDS="lvsp:lvsp discord_voice:dv vortex:vx galene:gl ion:ion"
fe_dirs="" fe_prefixes=""
for fe in $FRONTENDS; do
  fe_dirs+=" ${fe%%:*}"
  fe_prefixes+="${fe_prefixes:+|}${fe##*:}"
done

# 1. The core never includes a protocol front end.
if grep -nE "#include \"($fe_prefixes)_" "$src"/src/*.c "$src"/src/*.h; then
  echo "FAIL: src/ includes a front-end header (above)"; fail=1
fi

# 2. No source file past the hard cap (the soft limit, 800, is reviewed).
while read -r n f; do
  [[ $f == total ]] && continue
  if (( n > 1500 )); then echo "FAIL: $f has $n lines (cap 1500)"; fail=1; fi
done < <(wc -l "$src"/src/*.[ch] $(for d in $fe_dirs; do echo "$src/$d"/*.[ch]; done))

# 3. Every exported symbol carries its module's prefix.
objs=$(find "$build/CMakeFiles/sc_core.dir" $(for d in $fe_dirs; do echo "$build/CMakeFiles/$d.dir"; done) \
            -name '*.o' 2>/dev/null)
if [[ -z $objs ]]; then echo "FAIL: no objects under $build"; exit 1; fi
bad=$(nm -g --defined-only $objs | awk 'NF==3 {print $3}' \
      | grep -vE "^(sc_|sc__|${fe_prefixes//|/_|}_)" | sort -u)
if [[ -n $bad ]]; then echo "FAIL: exported symbols without a module prefix:"; echo "$bad"; fail=1; fi

# 4. A front end (and the core) is a stack: no two modules call each other,
#    directly or round a longer loop. Edges come from the objects: module A
#    uses B when A.o references a symbol B.o defines; tsort names any loop.
for lib in sc_core $fe_dirs; do
  lib_objs=$(find "$build/CMakeFiles/$lib.dir" -name '*.o' | sort)
  edges=$(for o in $lib_objs; do
      m=$(basename "$o" .c.o)
      nm -u "$o" | awk -v m="$m" '{print "U", m, $NF}'
      nm --defined-only -g "$o" | awk -v m="$m" 'NF==3 {print "D", m, $3}'
    done | awk '$1 == "D" {def[$3] = $2}
                $1 == "U" {use[NR] = $2 " " $3}
                END {for (i in use) {split(use[i], x, " ");
                       if ((x[2] in def) && def[x[2]] != x[1]) print x[1], def[x[2]]}}' | sort -u)
  loop=$(echo "$edges" | tsort 2>&1 >/dev/null | grep -v 'input contains a loop:$' \
         | sed 's/^tsort: //' | tr '\n' ' ')
  if [[ -n $loop ]]; then echo "FAIL: $lib: modules call each other in a loop: $loop"; fail=1; fi
done

if (( fail )); then echo "layout: 0 passed, 1 failed"; exit 1; fi
echo "layout: 1 passed, 0 failed"
