# ATTEST_UNITY_BUILD: compile a target's sources in batches of
# ATTEST_UNITY_BATCH_SIZE, each batch one translation unit (CMake's
# UNITY_BUILD). Most of a test or library source's compile time is parsing
# the same headers (gtest, nlohmann::json, OpenSSL, Beast); a batch parses
# them once. scripts/build turns it on, which keeps CI within its time
# budget; it is off by default so an edit recompiles one file, and so that
# each source still has to compile on its own (its own includes, no helper
# borrowed from a neighbour) in a developer's build.
option(ATTEST_UNITY_BUILD "Compile the targets that opt in (attest_unity_build) in batches" OFF)
set(ATTEST_UNITY_BATCH_SIZE 8 CACHE STRING "Sources per batch under ATTEST_UNITY_BUILD")

# attest_unity_build(TARGET...): opts these targets in. Opt-in per target: a
# target joins once its sources are known to batch cleanly (no two of them
# define the same name in an anonymous namespace or as a static, no file-scope
# `using namespace` or macro that changes what the next file means).
function(attest_unity_build)
  if(NOT ATTEST_UNITY_BUILD)
    return()
  endif()
  foreach(target IN LISTS ARGN)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE BATCH
                          UNITY_BUILD_BATCH_SIZE ${ATTEST_UNITY_BATCH_SIZE})
  endforeach()
endfunction()
