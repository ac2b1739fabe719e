#include "rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace attest::service::api {

int RateLimiter::Take(std::string_view key, TimePoint now) {
  std::lock_guard lock(mutex_);
  if (now - last_sweep_ > std::chrono::seconds(60)) Sweep(now);
  auto [it, inserted] = buckets_.try_emplace(std::string(key), Bucket{burst_, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(burst_, bucket.tokens + std::max(0.0, elapsed) * per_second_);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  double wait = per_second_ > 0 ? (1 - bucket.tokens) / per_second_ : 60;
  return std::max(1, static_cast<int>(std::ceil(wait)));
}

// A bucket that has refilled completely is the same as no bucket.
void RateLimiter::Sweep(TimePoint now) {
  last_sweep_ = now;
  double full_after = per_second_ > 0 ? burst_ / per_second_ : 3600;
  std::erase_if(buckets_, [&](const auto& item) {
    return std::chrono::duration<double>(now - item.second.updated).count() > full_after;
  });
}

}  // namespace attest::service::api
