// Trust decay: the deadline index, the sweep, and its thread.
#include "trust_decay.h"

#include <algorithm>
#include <iostream>

#include "attest/ledger/kinds.h"

#include "context.h"

namespace attest::service::api {
namespace {

// Slack past interval + nonce lifetime for a node's network and TPM.
constexpr std::chrono::seconds kSlack{30};
constexpr std::size_t kListPage = 500;

// The stale transition of one node, if it is still trusted and still stale
// when read: the same consequences as a failed attestation.
void ExpireNode(Context& context, const std::string& node_id, TimePoint now,
                std::chrono::seconds max_age) {
  Result<std::optional<NodeRecord>> read = context.store->GetNode(node_id);
  if (!read.ok()) {
    std::cerr << "verifier: trust sweep: " << read.error().ToString() << "\n";
    context.trust_deadlines.StoreUnreachable();
    return;  // stays due: the next sweep tries again
  }
  const TimePoint floor = context.trust_deadlines.StoreReachable(now);
  if (!*read) {
    context.trust_deadlines.Drop(node_id);
    return;
  }
  if ((*read)->state != NodeState::kTrusted) {
    context.trust_deadlines.Forget(node_id, (*read)->version);
    return;
  }
  NodeRecord node = std::move(**read);
  const TimePoint attested = node.last_attestation.value_or(node.enrolled_at);
  // Never before the grace floor; never after this verifier's now (another
  // verifier's clock ahead of this one's keeps no node trusted for longer).
  const TimePoint last = std::min(std::max(attested, floor), now);
  if (now - last <= max_age) {
    context.trust_deadlines.Trusted(node_id, last, node.version);  // attested meanwhile
    return;
  }
  const NodeState previous = node.state;
  node.state = NodeState::kUntrusted;
  // Silence says nothing of which boot runs now: the next evidence brings
  // its boot log and its runtime log in full, as after any failure.
  node.boot_cache.reset();
  node.runtime_cache.reset();
  StoreChange change;
  change.events.push_back({std::string(ledger::kinds::kNodeUntrusted),
                           {{"node_id", node.node_id},
                            {"previous_state", NodeStateName(previous)},
                            {"reason", kAttestationStale},
                            {"last_attestation", FormatRfc3339Utc(attested)}}});
  Status revoked = RevokeCertificatesIn(context, change, node.node_id, now,
                                        "attestation stale: " + std::string(kAttestationStale));
  if (!revoked.ok()) {
    std::cerr << "verifier: trust sweep: " << revoked.error().ToString() << "\n";
    return;
  }
  change.node = node;
  Result<CommitResult> committed = CommitChange(context, change);
  if (!committed.ok()) {
    // kBusy: the node changed meanwhile; the next sweep reads it again.
    std::cerr << "verifier: trust sweep: " << committed.error().ToString() << "\n";
    return;
  }
  context.trust_deadlines.Forget(node_id, node.version + 1);  // what the commit stored
  NotifyStateChange(context, node, previous, kAttestationStale);
}

}  // namespace

void TrustDeadlines::Trusted(const std::string& node_id, TimePoint at, std::int64_t version) {
  std::lock_guard lock(mutex_);
  Entry& entry = nodes_[node_id];
  if (version < entry.version) return;
  if (entry.trusted_at) by_time_.erase({*entry.trusted_at, node_id});
  entry = {version, at};
  by_time_.insert({at, node_id});
}

void TrustDeadlines::Forget(const std::string& node_id, std::int64_t version) {
  std::lock_guard lock(mutex_);
  Entry& entry = nodes_[node_id];
  if (version < entry.version) return;
  if (entry.trusted_at) by_time_.erase({*entry.trusted_at, node_id});
  entry = {version, std::nullopt};
}

void TrustDeadlines::Drop(const std::string& node_id) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  if (it->second.trusted_at) by_time_.erase({*it->second.trusted_at, node_id});
  nodes_.erase(it);
}

void TrustDeadlines::StoreUnreachable() {
  std::lock_guard lock(mutex_);
  store_unreachable_ = true;
}

TimePoint TrustDeadlines::StoreReachable(TimePoint now) {
  std::lock_guard lock(mutex_);
  if (store_unreachable_) {
    store_unreachable_ = false;
    grace_floor_ = std::max(grace_floor_, now);
  }
  return grace_floor_;
}

TimePoint TrustDeadlines::grace_floor() const {
  std::lock_guard lock(mutex_);
  return grace_floor_;
}

std::vector<std::string> TrustDeadlines::Due(TimePoint cutoff) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> due;
  for (auto it = by_time_.begin(); it != by_time_.end() && it->first < cutoff; ++it) {
    due.push_back(it->second);
  }
  return due;
}

std::chrono::seconds TrustMaxAge(Context& context) {
  if (context.config.trust_max_age.count() > 0) return context.config.trust_max_age;
  std::shared_ptr<const ActivePolicy> policy = CurrentPolicy(context);
  const auto interval = std::chrono::seconds(policy ? policy->effective.attestation_interval_seconds
                                                    : std::uint64_t{60});
  const auto nonce_lifetime =
      std::chrono::seconds(policy ? policy->effective.nonce_lifetime_seconds : std::uint64_t{30});
  return std::max(3 * interval, interval + nonce_lifetime + kSlack);
}

Status LoadTrustDeadlines(Context& context) {
  // Nodes could not attest while the verifier was down: each gets one
  // maximum age from this start to do so, rather than every node of the
  // fleet revoked in the first sweep after an outage longer than that.
  const TimePoint started = context.clock.Now();
  context.trust_deadlines.StoreUnreachable();
  context.trust_deadlines.StoreReachable(started);
  std::string after;
  for (;;) {
    ATTEST_ASSIGN_OR_RETURN(std::vector<NodeRecord> nodes,
                            context.store->ListNodes(NodeState::kTrusted, after, kListPage));
    for (const NodeRecord& node : nodes) {
      context.trust_deadlines.Trusted(
          node.node_id, std::max(node.last_attestation.value_or(node.enrolled_at), started),
          node.version);
    }
    if (nodes.size() < kListPage) return OkStatus();
    after = nodes.back().node_id;
  }
}

void ExpireStaleNodes(Context& context) {
  std::lock_guard lock(context.trust_sweep_mutex);
  const TimePoint now = context.clock.Now();
  const std::chrono::seconds max_age = TrustMaxAge(context);
  for (const std::string& node_id : context.trust_deadlines.Due(now - max_age)) {
    ExpireNode(context, node_id, now, max_age);
  }
}

TrustSweeper::TrustSweeper(Context& context, std::chrono::milliseconds period)
    : context_(context), period_(period), thread_([this] { Run(); }) {}

void TrustSweeper::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// Failing, the look keeps the store from solo mode (and other verifiers
// cannot see this one): said once when it starts failing and once when it
// works again.
void TrustSweeper::LookForOtherVerifiers() {
  Result<std::size_t> others = context_.store->LookForOtherVerifiers();
  if (!others.ok() && !look_failing_) {
    std::cerr << "verifier: " << others.error().ToString() << "\n";
  } else if (others.ok() && look_failing_) {
    std::cerr << "verifier: looking for other verifiers works again\n";
  }
  look_failing_ = !others.ok();
}

void TrustSweeper::Run() {
  // Other verifiers' writes (PostgreSQL) are taken in every few sweeps.
  constexpr int kSweepsPerRefresh = 5;
  int sweeps = 0;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, period_, [this] { return stopping_; })) {
    lock.unlock();
    try {
      LookForOtherVerifiers();
      if (++sweeps % kSweepsPerRefresh == 0) RefreshSharedState(context_);
      ExpireStaleNodes(context_);
    } catch (const std::exception& exception) {
      std::cerr << "verifier: trust sweep: " << exception.what() << "\n";
    }
    lock.lock();
  }
}

}  // namespace attest::service::api
