// Full verification of one evidence document (issue 4 §7): an ECDSA P-256
// AK, 10 PCRs (sha256:0-8,15), a real 47-event, four-bank boot log (the
// fixture ovmf-sb-on.bin), 20 runtime entries and a policy learned from it.
// The AK and the policy are parsed once, as the service does per node; the
// evidence is parsed from its JSON text every time.
//
// BM_EcdsaP256Verify is OpenSSL's bare verify of one P-256 signature over a
// 32-byte digest, what `openssl speed ecdsap256` measures. Target: the
// full verification at >= 50% of that rate.
//
// Run: verify_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cstdio>
#include <cstdlib>

#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include "attest/openssl.h"
#include "attest/verifier/verify.h"

#include "evidence_factory.h"

namespace attest::verifier {
namespace {

struct Fixture {
  test::EvidenceFactory factory;
  AttestationKey key;
  Policy policy;
  Bytes nonce = Bytes(32, 0x42);
  Evidence evidence;
  std::string evidence_json;

  Fixture() {
    evidence = factory.Make(tpm::ParsePcrSelection("sha256:0-8,15").value(),
                            test::ReadFixture("eventlogs/ovmf-sb-on.bin"),
                            test::ExampleRuntimeLog(20), nonce, test::SafeClock());
    key = factory.LoadedKey();
    policy = test::PolicyFor(evidence, key);
    evidence_json = EvidenceToJson(evidence).value().dump();
    VerificationInput input{evidence, key, policy, nonce, std::nullopt};
    if (!VerifyEvidence(input).trusted) {
      std::fprintf(stderr, "benchmark setup failed: the evidence does not verify\n");
      std::exit(1);
    }
  }
};

Fixture& Shared() {
  static Fixture fixture;
  return fixture;
}

void BM_VerifyEvidenceDocument(benchmark::State& state) {
  Fixture& fixture = Shared();
  for (auto _ : state) {
    Result<Evidence> evidence = ParseEvidence(fixture.evidence_json, "evidence");
    VerificationInput input{*evidence, fixture.key, fixture.policy, fixture.nonce, std::nullopt};
    Verdict verdict = VerifyEvidence(input);
    benchmark::DoNotOptimize(verdict.trusted);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["evidence_bytes"] = static_cast<double>(fixture.evidence_json.size());
}
BENCHMARK(BM_VerifyEvidenceDocument);

void BM_VerifyParsedEvidence(benchmark::State& state) {
  Fixture& fixture = Shared();
  for (auto _ : state) {
    VerificationInput input{fixture.evidence, fixture.key, fixture.policy, fixture.nonce,
                            std::nullopt};
    Verdict verdict = VerifyEvidence(input);
    benchmark::DoNotOptimize(verdict.trusted);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyParsedEvidence);

void BM_ParseEvidenceOnly(benchmark::State& state) {
  Fixture& fixture = Shared();
  for (auto _ : state) {
    Result<Evidence> evidence = ParseEvidence(fixture.evidence_json, "evidence");
    benchmark::DoNotOptimize(evidence.ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseEvidenceOnly);

void BM_EcdsaP256Verify(benchmark::State& state) {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  unsigned char digest[32] = {1, 2, 3};
  unsigned char signature[80];
  std::size_t signature_size = sizeof(signature);
  EvpPkeyCtxPtr sign(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  EVP_PKEY_sign_init(sign.get());
  EVP_PKEY_sign(sign.get(), signature, &signature_size, digest, sizeof(digest));
  EvpPkeyCtxPtr verify(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  EVP_PKEY_verify_init(verify.get());
  for (auto _ : state) {
    int ok = EVP_PKEY_verify(verify.get(), signature, signature_size, digest, sizeof(digest));
    if (ok != 1) state.SkipWithError("verify failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EcdsaP256Verify);

}  // namespace
}  // namespace attest::verifier

BENCHMARK_MAIN();
