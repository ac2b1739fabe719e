// Token buckets per key (a client address, a node id): what keeps the
// unauthenticated endpoints (enrollment, challenges, evidence) from being
// used to flood the verifier. Thread safe; idle buckets are swept.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "attest/clock.h"

namespace attest::service::api {

class RateLimiter {
 public:
  RateLimiter(double per_second, double burst) : per_second_(per_second), burst_(burst) {}

  // Takes one token of `key`'s bucket: 0 when allowed, else the seconds to
  // wait (at least 1) before a token is there.
  int Take(std::string_view key, TimePoint now);

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint updated;
  };
  void Sweep(TimePoint now);

  const double per_second_;
  const double burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  TimePoint last_sweep_{};
};

}  // namespace attest::service::api
