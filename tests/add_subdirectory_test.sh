#!/usr/bin/env bash
# etuner inside another project (add_subdirectory): it configures, brings no tests, fuzz
# targets, benchmarks or build type of its own, and a program linking etuner::etuner sees
# include/ but not src/. Configure only (a build would take as long as etuner's).
#   add_subdirectory_test.sh SOURCE_DIR WORK_DIR GENERATOR
set -euo pipefail
src=$1 work=$2 generator=$3
rm -rf "$work" && mkdir -p "$work/parent"
cat > "$work/parent/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(parent LANGUAGES CXX)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
add_subdirectory("$src" etuner)
add_executable(app app.cpp)
target_link_libraries(app PRIVATE etuner::etuner)
foreach(t test_runtime etuner_serve_load etuner_fuzz_request)
  if(TARGET \${t})
    message(FATAL_ERROR "etuner under a parent project defined \${t}")
  endif()
endforeach()
if(CMAKE_BUILD_TYPE)
  message(FATAL_ERROR "etuner under a parent project set CMAKE_BUILD_TYPE=\${CMAKE_BUILD_TYPE}")
endif()
CMAKE
echo '#include <etuner/etuner.h>
int main() { return etuner::version().empty(); }' > "$work/parent/app.cpp"
cmake -S "$work/parent" -B "$work/build" -G "$generator" > "$work/configure.log" 2>&1 \
  || { cat "$work/configure.log"; exit 1; }
app=$(grep '"command"' "$work/build/compile_commands.json" | grep 'app\.cpp' | head -1)
grep -qF -- "-I$src/include" <<<"$app" || { echo "app does not see include/: $app"; exit 1; }
if grep -qF -- "-I$src/src" <<<"$app"; then echo "src/ leaks to users: $app"; exit 1; fi
if [ -n "$(find "$work/build" -name CTestTestfile.cmake -path '*etuner/tests*')" ]; then
  echo "tests registered under a parent project"; exit 1
fi
echo "add_subdirectory: configures; no tests, no build type; app sees include/ only"
