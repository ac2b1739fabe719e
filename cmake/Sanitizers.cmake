# ATTEST_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer for every
# target. Any UB report aborts the test that caused it.
if(ATTEST_SANITIZE)
  set(_attest_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=all
                             -fno-omit-frame-pointer)
  add_compile_options(${_attest_sanitize_flags})
  add_link_options(${_attest_sanitize_flags})
endif()
