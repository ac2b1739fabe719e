// attestd's TPM operations against a private swtpm (in-process, over the
// swtpm TCTI on a unix socket): quote, PCR read, PCR extend and credential
// activation latency, each the median of 100 calls. A quote here is the
// whole operation attestd runs per challenge: create the storage primary,
// load the AK, TPM2_Quote, read the quoted PCRs, flush.
//
// Run: tpm_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "attest/attestd/tpm.h"
#include "attest/attestd/tpm_measurement_pcr.h"
#include "attest/tpm/public_key.h"
#include "attest/verifier/make_credential.h"

#include "harness/swtpm_simulator.h"

namespace attest::attestd {
namespace {

constexpr int kCalls = 100;

struct Bench {
  std::unique_ptr<test::SwtpmSimulator> swtpm;
  std::unique_ptr<Tpm> tpm;
  KeyBlob ak;
};

// Destroyed at exit, TPM connection first: the simulator is stopped and its
// temp directory (state, CA, sockets) removed.
Bench& Shared() {
  static Bench bench = [] {
    Bench created;
    auto swtpm = test::SwtpmSimulator::Start();
    if (!swtpm.ok()) {
      std::fprintf(stderr, "swtpm: %s\n", swtpm.error().ToString().c_str());
      std::exit(1);
    }
    created.swtpm = std::move(swtpm).value();
    created.tpm = std::move(Tpm::Open(created.swtpm->tcti()).value());
    created.ak = created.tpm->CreateAttestationKey(AkAlgorithm::kEccP256).value();
    return created;
  }();
  return bench;
}

// Times each call and reports the median in ms as a counter.
template <typename Call>
void MedianOf100(benchmark::State& state, Call call) {
  std::vector<double> milliseconds;
  for (auto _ : state) {
    milliseconds.clear();
    for (int i = 0; i < kCalls; ++i) {
      auto start = std::chrono::steady_clock::now();
      if (!call()) {
        state.SkipWithError("TPM call failed");
        return;
      }
      milliseconds.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
  }
  std::sort(milliseconds.begin(), milliseconds.end());
  state.counters["median_ms"] = milliseconds[milliseconds.size() / 2];
  state.counters["p90_ms"] = milliseconds[milliseconds.size() * 9 / 10];
}

void BM_Quote(benchmark::State& state) {
  Bench& bench = Shared();
  const Bytes nonce(32, 0xab);
  // The default attestation selection: boot PCRs 0-7 and the runtime PCR.
  const auto selection = tpm::ParsePcrSelection("sha256:0,1,2,3,4,5,6,7,15").value();
  MedianOf100(state, [&] { return bench.tpm->MakeQuote(bench.ak, nonce, selection).ok(); });
}
BENCHMARK(BM_Quote)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_PcrRead(benchmark::State& state) {
  Bench& bench = Shared();
  const auto selection = tpm::ParsePcrSelection("sha256:0,1,2,3,4,5,6,7,15").value();
  MedianOf100(state, [&] { return bench.tpm->ReadPcrs(selection).ok(); });
}
BENCHMARK(BM_PcrRead)->Iterations(1)->Unit(benchmark::kMillisecond);

// One extend with a salted HMAC session started (and flushed) for it:
// storage primary, StartAuthSession, PCR_Extend.
void BM_PcrExtend(benchmark::State& state) {
  Bench& bench = Shared();
  const Bytes digest(32, 0x5c);
  MedianOf100(state, [&] { return bench.tpm->ExtendPcr(16, {{TPM2_ALG_SHA256, digest}}).ok(); });
}
BENCHMARK(BM_PcrExtend)->Iterations(1)->Unit(benchmark::kMillisecond);

// An extend through a salted session that is already running, as
// TpmMeasurementPcr keeps one.
void BM_PcrExtendInSession(benchmark::State& state) {
  Bench& bench = Shared();
  const Bytes digest(32, 0x5c);
  auto session = bench.tpm->StartSaltedSession();
  if (!session.ok()) {
    state.SkipWithError(session.error().ToString().c_str());
    return;
  }
  MedianOf100(state, [&] {
    return bench.tpm->ExtendPcr(16, {{TPM2_ALG_SHA256, digest}}, &*session).ok();
  });
}
BENCHMARK(BM_PcrExtendInSession)->Iterations(1)->Unit(benchmark::kMillisecond);

// What one runtime measurement costs in the TPM: both banks (sha1 and
// sha256) hashed and extended through the kept session.
void BM_RuntimeMeasurementExtend(benchmark::State& state) {
  Bench& bench = Shared();
  auto pcr = TpmMeasurementPcr::Create(*bench.tpm, 16);
  if (!pcr.ok()) {
    state.SkipWithError(pcr.error().ToString().c_str());
    return;
  }
  const Bytes event(120, 0x42);
  MedianOf100(state, [&] { return (*pcr)->Extend(event).ok(); });
}
BENCHMARK(BM_RuntimeMeasurementExtend)->Iterations(1)->Unit(benchmark::kMillisecond);

// Enrollment's TPM2_ActivateCredential, whole: load the AK, create the EK,
// a session salted to the EK with response encryption, the EK's policy
// session, the command, flushes. arg 0: RSA EK (L-1), 1: ECC EK (H-3).
void BM_ActivateCredential(benchmark::State& state) {
  Bench& bench = Shared();
  auto endorsement =
      bench.tpm->ReadEndorsement(state.range(0) == 0 ? EkAlgorithm::kRsa : EkAlgorithm::kEcc);
  auto ak_public = tpm::ParsePublic(bench.ak.public_area);
  if (!endorsement.ok() || !ak_public.ok()) {
    state.SkipWithError("no EK or AK");
    return;
  }
  const Bytes secret(32, 0x33);
  auto credential = verifier::MakeCredential(tpm::MarshalPublic(endorsement->public_key), secret,
                                             tpm::ObjectName(ak_public->publicArea).value());
  if (!credential.ok()) {
    state.SkipWithError(credential.error().ToString().c_str());
    return;
  }
  MedianOf100(state, [&] {
    auto recovered = bench.tpm->ActivateCredential(
        bench.ak, *endorsement, credential->credential_blob, credential->encrypted_secret);
    return recovered.ok() && *recovered == secret;
  });
}
BENCHMARK(BM_ActivateCredential)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace attest::attestd

BENCHMARK_MAIN();
