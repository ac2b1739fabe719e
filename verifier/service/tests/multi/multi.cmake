# Several `verifier serve` processes on one PostgreSQL database (issue 14 §3):
# one test binary, one private cluster (pg/testing), a database per test.
# Included from verifier/service/CMakeLists.txt when tests are built.
add_executable(service_multi_tests
  tests/multi/attestation_client.cpp
  tests/multi/failover_test.cpp
  tests/multi/fleet_load.cpp
  tests/multi/shared_database_test.cpp
  tests/multi/two_verifiers.cpp
  tests/multi/two_verifiers_record.cpp
  tests/multi/verifier_process.cpp
)
target_include_directories(service_multi_tests PRIVATE tests/multi)
target_link_libraries(service_multi_tests PRIVATE attest_service_testing attest_verifier_testing
  attest_pg attest_pg_testing attest_testing attest_http GTest::gtest_main OpenSSL::Crypto
  Threads::Threads)
target_compile_definitions(service_multi_tests PRIVATE VERIFIER_BINARY="$<TARGET_FILE:verifier>"
  LEDGER_BINARY="$<TARGET_FILE:ledger>")
add_dependencies(service_multi_tests verifier ledger)
# One ctest test for the binary, so its tests share one cluster.
add_test(NAME service_multi_tests COMMAND service_multi_tests)
set_tests_properties(service_multi_tests PROPERTIES LABELS postgres TIMEOUT 300)
