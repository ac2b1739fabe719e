# attest_service: the verifier's /v1 REST API (service.h) over the
# verification core, the CA (attest_ca), the store (attest_service_store)
# and the ledger; transport-free, attest_http serves it. Included from
# verifier/service/CMakeLists.txt (the store's file): this block is the API's.
find_package(prometheus-cpp CONFIG REQUIRED)

add_library(attest_service
  src/api/admin_api.cpp
  src/api/attestation.cpp
  src/api/attestation_commit.cpp
  src/api/challenge_book.cpp
  src/api/challenge_nonce.cpp
  src/api/context.cpp
  src/api/enrollment.cpp
  src/api/incremental_evidence.cpp
  src/api/ledger_api.cpp
  src/api/metrics.cpp
  src/api/nodes.cpp
  src/api/operations.cpp
  src/api/policy_api.cpp
  src/api/rate_limiter.cpp
  src/api/responses.cpp
  src/api/shared_state.cpp
  src/api/router.cpp
  src/api/service.cpp
  src/api/trust_decay.cpp
  src/api/verdict_record.cpp
  src/api/webhooks.cpp
)
target_include_directories(attest_service PUBLIC include PRIVATE src/api)
target_link_libraries(attest_service
  PUBLIC attest_common attest_service_store attest_http
  PRIVATE attest_verifier attest_credential attest_ca attest_ledger attest_pg attest_signer
          prometheus-cpp::core OpenSSL::Crypto Threads::Threads)
attest_unity_build(attest_service)

if(ATTEST_BUILD_TESTS OR ATTEST_BUILD_BENCH)
  # What the service tests and the load generator (bench/service_load.cpp)
  # drive the service with: a simulated node speaking the real protocol, and
  # the checker of responses against verifier/openapi.yaml.
  find_package(yaml-cpp REQUIRED)
  add_library(attest_service_testing
    testing/openapi_validator.cpp
    testing/served_deployment.cpp
    testing/simulated_node.cpp
  )
  target_include_directories(attest_service_testing PUBLIC testing)
  target_link_libraries(attest_service_testing
    PUBLIC attest_common attest_http attest_service attest_verifier_testing attest_credential
    PRIVATE attest_credential_testing attest_tpm yaml-cpp OpenSSL::Crypto)
  attest_unity_build(attest_service_testing)
endif()

if(ATTEST_BUILD_TESTS)
  # The API through Service::Handle and over real HTTPS on 127.0.0.1: real
  # SQLite files, the real ledger and CA, simulated nodes (a software EK
  # whose credential the test opens, a software AK making real quotes).
  add_executable(service_api_tests
    tests/api/attestation_attack_test.cpp
    tests/api/auth_input_test.cpp
    tests/api/challenge_book_test.cpp
    tests/api/challenge_nonce_test.cpp
    tests/api/enrollment_race_test.cpp
    tests/api/https_test.cpp
    tests/api/policy_ledger_test.cpp
    tests/api/protocol_test.cpp
    tests/api/runtime_cursor_test.cpp
    tests/api/serve_notify_test.cpp
    tests/api/serve_test.cpp
    tests/api/service_test_support.cpp
    tests/api/soundness_http_test.cpp
    tests/api/trust_decay_test.cpp
    tests/openapi/openapi_contract_test.cpp
    ${PROJECT_SOURCE_DIR}/verifier/credential/tests/test_certificates.cpp
  )
  # src/api: the challenge book is tested on its own too (challenge_book_test.cpp).
  target_include_directories(service_api_tests PRIVATE tests/api src/api
    ${PROJECT_SOURCE_DIR}/verifier/credential/src ${PROJECT_SOURCE_DIR}/verifier/credential/tests)
  target_link_libraries(service_api_tests PRIVATE attest_service attest_service_store attest_http attest_ca
    attest_verifier_testing attest_credential attest_ledger attest_signer attest_testing
    attest_service_testing GTest::gtest_main GTest::gmock OpenSSL::Crypto)
  target_compile_definitions(service_api_tests PRIVATE VERIFIER_BINARY="$<TARGET_FILE:verifier>"
    ATTEST_OPENAPI_PATH="${PROJECT_SOURCE_DIR}/verifier/openapi.yaml")
  add_dependencies(service_api_tests verifier)
  attest_unity_build(service_api_tests)
  gtest_discover_tests(service_api_tests PROPERTIES LABELS "service" DISCOVERY_MODE PRE_TEST)

  # The service on PostgreSQL, on a private cluster the binary starts (one
  # ctest entry: one cluster per binary).
  add_executable(service_api_postgres_tests
    tests/api/postgres_migrate_test.cpp
    tests/api/postgres_service_test.cpp
    tests/api/service_test_support.cpp
  )
  target_include_directories(service_api_postgres_tests PRIVATE tests/api src/api)
  target_link_libraries(service_api_postgres_tests PRIVATE attest_service attest_service_store
    attest_http attest_verifier_testing attest_ledger attest_testing attest_service_testing
    attest_pg attest_pg_testing GTest::gtest_main OpenSSL::Crypto)
  target_compile_definitions(service_api_postgres_tests PRIVATE
    ATTEST_OPENAPI_PATH="${PROJECT_SOURCE_DIR}/verifier/openapi.yaml"
    VERIFIER_POSTGRES_ROLES_SQL="${PROJECT_SOURCE_DIR}/verifier/examples/postgres-roles.sql")
  add_test(NAME service_api_postgres_tests COMMAND service_api_postgres_tests)
  set_tests_properties(service_api_postgres_tests PROPERTIES LABELS postgres)
endif()
