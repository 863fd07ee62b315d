#!/usr/bin/env bash
# Builds the optional RTNeural peer of the benchmarks: build/librt_eigen_native.so (rt_bench.cpp over RTNeural's
# Eigen backend, -O3 -march=native). RTNeural is MIT-licensed C++ and not part of this repository:
#
#   tests/ModelGen.Benchmarks/rtneural/build.sh                          clones it (commit 1fb1f075) into RTNeural/
#   RTNEURAL_ROOT=<RTNeural checkout> tests/ModelGen.Benchmarks/rtneural/build.sh   uses a checkout of that commit
#
# Eigen and nlohmann/json come with RTNeural (its modules/). Both folders, RTNeural/ and build/, are git-ignored.
# Then rebuild the benchmarks (dotnet build tests/ModelGen.Benchmarks -c Release), which copies the library
# beside the program.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
COMMIT=1fb1f075
RT="${RTNEURAL_ROOT:-$HERE/RTNeural}"
if [[ -z "${RTNEURAL_ROOT:-}" && ! -d "$RT/.git" ]]; then
  git clone https://github.com/jatinchowdhury18/RTNeural "$RT"
  git -C "$RT" checkout --quiet "$COMMIT"
  git -C "$RT" submodule update --init --depth 1 modules/Eigen modules/json
fi
for f in "$RT/RTNeural/RTNeural.h" "$RT/modules/Eigen/Eigen/Dense" "$RT/modules/json/json.hpp"; do
  [[ -e "$f" ]] || { echo "build.sh: $f is missing (RTNEURAL_ROOT=$RT: an RTNeural checkout with modules/Eigen and modules/json)" >&2; exit 1; }
done
if [[ -d "$RT/.git" ]] && ! git -C "$RT" rev-parse --verify --quiet "$COMMIT^{commit}" >/dev/null; then
  echo "build.sh: warning: $RT does not contain commit $COMMIT; building what is there" >&2
elif [[ -d "$RT/.git" && "$(git -C "$RT" rev-parse HEAD)" != "$(git -C "$RT" rev-parse "$COMMIT^{commit}")" ]]; then
  echo "build.sh: warning: $RT is not at commit $COMMIT; building what is there" >&2
fi
mkdir -p "$HERE/build"
g++ -O3 -march=native -std=c++17 -shared -fPIC -fvisibility=hidden -DNDEBUG \
  -DRTNEURAL_DEFAULT_ALIGNMENT=32 -DRTNEURAL_NAMESPACE=RTNeural \
  -DRTNEURAL_USE_EIGEN=1 -DEIGEN_STACK_ALLOCATION_LIMIT=0 \
  -I"$RT" -I"$RT/modules/json" -I"$RT/modules/Eigen" \
  "$HERE/rt_bench.cpp" -o "$HERE/build/librt_eigen_native.so"
echo "built $HERE/build/librt_eigen_native.so"
