# attest_service: the verifier's /v1 REST API (service.h) over the
# verification core, the CA (attest_ca), the store (attest_service_store)
# and the ledger; transport-free, attest_http serves it. Included from
# verifier/service/CMakeLists.txt (the store's file): this block is the API's.
find_package(prometheus-cpp CONFIG REQUIRED)

add_library(attest_service
  src/api/admin_api.cpp
  src/api/attestation.cpp
  src/api/challenge_book.cpp
  src/api/context.cpp
  src/api/enrollment.cpp
  src/api/ledger_api.cpp
  src/api/metrics.cpp
  src/api/nodes.cpp
  src/api/operations.cpp
  src/api/policy_api.cpp
  src/api/rate_limiter.cpp
  src/api/responses.cpp
  src/api/router.cpp
  src/api/service.cpp
  src/api/webhooks.cpp
)
target_include_directories(attest_service PUBLIC include PRIVATE src/api)
target_link_libraries(attest_service
  PUBLIC attest_common attest_service_store attest_http
  PRIVATE attest_verifier attest_credential attest_ca attest_ledger attest_signer
          prometheus-cpp::core OpenSSL::Crypto Threads::Threads)

if(ATTEST_BUILD_TESTS OR ATTEST_BUILD_BENCH)
  # What the service tests and the load generator (bench/service_load.cpp)
  # drive the service with: a simulated node speaking the real protocol, and
  # the checker of responses against verifier/openapi.yaml.
  find_package(yaml-cpp REQUIRED)
  add_library(attest_service_testing
    testing/openapi_validator.cpp
    testing/simulated_node.cpp
  )
  target_include_directories(attest_service_testing PUBLIC testing
    # kdf.h: the simulated node's ActivateCredential uses the verifier's KDFa/KDFe.
    PRIVATE ${PROJECT_SOURCE_DIR}/verifier/credential/src)
  target_link_libraries(attest_service_testing
    PUBLIC attest_common attest_http attest_verifier_testing attest_credential
    PRIVATE attest_tpm yaml-cpp OpenSSL::Crypto)
endif()
