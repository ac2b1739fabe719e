# Warnings: -Wall -Wextra and friends everywhere; third-party headers are
# included as SYSTEM by their imported targets and stay quiet.
# ATTEST_WERROR (CMakeLists.txt) makes them errors. It is off by default, so
# a packager's newer or older compiler cannot fail the build over a new
# warning; scripts/build (and so CI and ./run-tests) turns it on.
add_compile_options(-Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wformat=2
                    -Wimplicit-fallthrough)
if(ATTEST_WERROR)
  add_compile_options(-Werror)
endif()

# Hardening that costs nothing measurable: stack protector and fortified libc calls.
add_compile_options(-fstack-protector-strong)

# _FORTIFY_SOURCE=2, unless whoever builds has chosen a level already: a
# packager's flags (Debian's dpkg-buildflags put -D_FORTIFY_SOURCE=2 in
# CFLAGS/CXXFLAGS through debhelper), a -U_FORTIFY_SOURCE, or a compiler that
# defines it by itself. Defining it twice with different values is a warning,
# and so an error under ATTEST_WERROR. Never with sanitizers or fuzzing, and
# never in Debug: it needs optimization to do anything.
set(_attest_user_flags "${CMAKE_C_FLAGS} ${CMAKE_CXX_FLAGS}")
if(CMAKE_BUILD_TYPE)
  string(TOUPPER "${CMAKE_BUILD_TYPE}" _attest_build_type)
  string(APPEND _attest_user_flags
         " ${CMAKE_C_FLAGS_${_attest_build_type}} ${CMAKE_CXX_FLAGS_${_attest_build_type}}")
endif()
if(_attest_user_flags MATCHES "_FORTIFY_SOURCE")
  set(_attest_fortify_preset ON)
else()
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "-O2")
  check_cxx_source_compiles("#ifndef _FORTIFY_SOURCE\n#error not defined\n#endif\nint main() {}"
                            ATTEST_COMPILER_DEFINES_FORTIFY_SOURCE)
  unset(CMAKE_REQUIRED_FLAGS)
  set(_attest_fortify_preset ${ATTEST_COMPILER_DEFINES_FORTIFY_SOURCE})
endif()
if(NOT _attest_fortify_preset AND NOT ATTEST_SANITIZE AND NOT ATTEST_FUZZ)
  add_compile_definitions($<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
endif()
add_compile_definitions(OPENSSL_API_COMPAT=30000 OPENSSL_NO_DEPRECATED)
