# Warnings are errors in code written here; third-party headers are included
# as SYSTEM by their imported targets and stay quiet.
add_compile_options(-Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wformat=2
                    -Wimplicit-fallthrough)
# Hardening that costs nothing measurable: stack protector and fortified libc calls.
add_compile_options(-fstack-protector-strong)
if(NOT ATTEST_SANITIZE AND NOT ATTEST_FUZZ)
  add_compile_definitions($<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
endif()
add_compile_definitions(OPENSSL_API_COMPAT=30000 OPENSSL_NO_DEPRECATED)
