// Trust decays: a trusted node whose last trusted attestation is older than
// the maximum age (config `policy.trust_max_age_seconds`, else derived from
// the policy's interval) turns untrusted with reason ATTESTATION_STALE, its
// certificates revoked, as a failed attestation would. TrustDeadlines is the
// in-memory index of when each trusted node last attested (loaded at open,
// kept by RecordVerdict), so a sweep looks at the store only for nodes due.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "attest/clock.h"
#include "attest/error.h"

namespace attest::service::api {

struct Context;

// The stable reason a node turns untrusted for silence.
inline constexpr std::string_view kAttestationStale = "ATTESTATION_STALE";

// Commits to one node are ordered by its version, but the index updates
// that follow them are not: each update names the version it saw, and one
// older than the node's latest is ignored. Otherwise a Forget that lost a
// race to a later trusted commit would drop a trusted node from the index,
// and its trust would never decay.
class TrustDeadlines {
 public:
  // `node_id`, at stored version `version`, was trusted at `at` (its last
  // trusted attestation).
  void Trusted(const std::string& node_id, TimePoint at, std::int64_t version);
  // `node_id`, at stored version `version`, is not trusted.
  void Forget(const std::string& node_id, std::int64_t version);
  // `node_id` is not in the store at all.
  void Drop(const std::string& node_id);
  // The nodes last trusted before `cutoff`, oldest first.
  std::vector<std::string> Due(TimePoint cutoff) const;

  // No node can attest while the store is out of reach (PostgreSQL down or
  // cut off), so its silence then says nothing: a sweep that cannot read
  // the store marks it unreachable, and the first that can again moves the
  // grace floor to that moment. Each node then has one maximum age from the
  // floor to attest, as after a restart (the floor starts at the open).
  void StoreUnreachable();
  // The grace floor, moved to `now` if the store was unreachable.
  TimePoint StoreReachable(TimePoint now);
  TimePoint grace_floor() const;

 private:
  struct Entry {
    std::int64_t version = 0;
    std::optional<TimePoint> trusted_at;  // nullopt: not trusted at `version`
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> nodes_;  // a node's latest update
  std::set<std::pair<TimePoint, std::string>> by_time_;
  bool store_unreachable_ = false;
  TimePoint grace_floor_{};
};

// How long a trusted verdict stands without a new one.
std::chrono::seconds TrustMaxAge(Context& context);
// Fills context.trust_deadlines from the store's trusted nodes (at open).
Status LoadTrustDeadlines(Context& context);
// Turns every trusted node past its deadline untrusted (one commit each;
// a node that attested meanwhile is left trusted). Cheap when none is due:
// the API's node listings call it before reading, so they never show a
// stale node as trusted.
void ExpireStaleNodes(Context& context);

// Runs ExpireStaleNodes every `period` (real time) on its own thread until
// Stop (or destruction).
class TrustSweeper {
 public:
  TrustSweeper(Context& context, std::chrono::milliseconds period);
  ~TrustSweeper() { Stop(); }
  TrustSweeper(const TrustSweeper&) = delete;
  TrustSweeper& operator=(const TrustSweeper&) = delete;
  void Stop();

 private:
  void Run();
  void LookForOtherVerifiers();

  Context& context_;
  const std::chrono::milliseconds period_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool look_failing_ = false;  // the sweeper thread's own
  std::thread thread_;
};

}  // namespace attest::service::api
