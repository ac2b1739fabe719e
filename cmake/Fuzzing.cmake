# ATTEST_FUZZ: libFuzzer targets, built with clang. The library code they link
# is instrumented for coverage (-fsanitize=fuzzer-no-link) and checked by
# ASan/UBSan; each target gets the libFuzzer driver.
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
  if(NOT ATTEST_FUZZ)
    return()
  endif()
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  # `ninja fuzzers` builds the fuzz targets and what they link, not the
  # tools and servers that a fuzz build has no use for (scripts/build fuzz).
  if(NOT TARGET fuzzers)
    add_custom_target(fuzzers)
  endif()
  add_dependencies(fuzzers ${name})
  if(ARG_CORPUS)
    add_test(NAME ${name}_seeds COMMAND ${name} -runs=0 ${ARG_CORPUS})
    set_tests_properties(${name}_seeds PROPERTIES LABELS fuzz)
  endif()
endfunction()
