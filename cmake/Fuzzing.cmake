# ATTEST_FUZZ: libFuzzer targets, built with clang. The library code they link
# is instrumented for coverage (-fsanitize=fuzzer-no-link) and checked by
# ASan/UBSan; each target gets the libFuzzer driver.
# Without ATTEST_FUZZ, a sanitizer build with tests links each fuzz target to
# a plain replay driver (fuzz/replay_main.cpp) instead: the seeds then run
# under the same ASan + UBSan as the tests, with the compiler CI already
# uses, and `scripts/build fuzz` stays the way to actually fuzz.
if(ATTEST_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "ATTEST_FUZZ needs clang: configure with -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# attest_add_fuzzer(NAME SOURCE LIBS... CORPUS DIR... [OPTIONAL_CORPUS DIR...]):
# a libFuzzer target, and a ctest entry labelled `fuzz` that replays the seed
# corpora through it, so every seed stays a regression test. OPTIONAL_CORPUS
# directories (the shared test vectors) are used when they exist.
function(attest_add_fuzzer name source)
  cmake_parse_arguments(ARG "" "" "LIBS;CORPUS;OPTIONAL_CORPUS" ${ARGN})
  foreach(dir IN LISTS ARG_OPTIONAL_CORPUS)
    if(IS_DIRECTORY "${dir}")
      list(APPEND ARG_CORPUS "${dir}")
    endif()
  endforeach()
  if(ATTEST_FUZZ)
    add_executable(${name} ${source})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  elseif(ATTEST_SANITIZE AND ATTEST_BUILD_TESTS)
    # FuzzedDataProvider.h is a header-only part of libFuzzer that builds
    # with any compiler; it comes with Debian's clang packages. It is linked
    # into a directory of its own: clang's whole include directory would
    # shadow gcc's own stddef.h.
    file(READ "${CMAKE_CURRENT_SOURCE_DIR}/${source}" _attest_fuzz_text)
    string(FIND "${_attest_fuzz_text}" "fuzzer/FuzzedDataProvider.h" _attest_needs_provider)
    if(NOT _attest_needs_provider EQUAL -1)
      file(GLOB _attest_provider LIST_DIRECTORIES false
           /usr/lib/llvm-*/lib/clang/*/include/fuzzer/FuzzedDataProvider.h)
      if(NOT _attest_provider)
        message(FATAL_ERROR "${name} needs fuzzer/FuzzedDataProvider.h: install Debian's clang "
                            "(scripts/install-deps does), or configure with -DATTEST_BUILD_TESTS=OFF")
      endif()
      list(GET _attest_provider 0 _attest_provider)
      set(_attest_provider_dir "${CMAKE_BINARY_DIR}/fuzz-include")
      file(MAKE_DIRECTORY "${_attest_provider_dir}/fuzzer")
      file(CREATE_LINK "${_attest_provider}" "${_attest_provider_dir}/fuzzer/FuzzedDataProvider.h"
           SYMBOLIC)
    endif()
    add_executable(${name} ${source} ${PROJECT_SOURCE_DIR}/cmake/fuzz/replay_main.cpp)
    if(NOT _attest_needs_provider EQUAL -1)
      target_include_directories(${name} SYSTEM PRIVATE "${_attest_provider_dir}")
    endif()
  else()
    return()
  endif()
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  # `ninja fuzzers` builds the fuzz targets and what they link, not the
  # tools and servers that a fuzz build has no use for (scripts/build fuzz).
  if(NOT TARGET fuzzers)
    add_custom_target(fuzzers)
  endif()
  add_dependencies(fuzzers ${name})
  if(ARG_CORPUS)
    add_test(NAME ${name}_seeds COMMAND ${name} -runs=0 ${ARG_CORPUS})
    set_tests_properties(${name}_seeds PROPERTIES LABELS fuzz TIMEOUT 600)
    if(NOT ATTEST_FUZZ)
      # What libFuzzer counts as a finding: one allocation past 2 GiB
      # (a length field trusted) is one here too.
      set_tests_properties(${name}_seeds PROPERTIES ENVIRONMENT
                           "ASAN_OPTIONS=max_allocation_size_mb=2048:allocator_may_return_null=0")
    endif()
  endif()
endfunction()
