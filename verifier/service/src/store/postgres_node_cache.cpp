// NodeRowCache (postgres_internal.h): a least-recently-used map of node
// rows under a byte budget, shared by the store's connections, and whether
// the store has seen another writer lately.
#include <algorithm>

#include "src/store/postgres_internal.h"

namespace attest::service::internal {
namespace {

// What a cached row holds beyond its fixed part: its strings and bytes,
// the cached states (a few KB each) above all.
std::size_t NodeRowBytes(const NodeRecord& node) {
  std::size_t bytes = sizeof(NodeRecord) + node.node_id.size() + node.hostname.size() +
                      node.ek_public.size() + node.ak_public.size() + node.last_verdict_json.size();
  if (node.ek_certificate) bytes += node.ek_certificate->size();
  if (node.boot_cache) {
    bytes += node.boot_cache->boot_log_digest.size() + node.boot_cache->verified_state_json.size();
  }
  if (node.runtime_cache) bytes += node.runtime_cache->verified_state_json.size();
  return bytes;
}

}  // namespace

NodeRowCache::NodeRowCache(std::size_t byte_budget, std::chrono::milliseconds solo_after,
                           Steady::time_point opened)
    : byte_budget_(byte_budget), solo_after_(solo_after), other_writer_sign_(opened) {}

std::optional<NodeRecord> NodeRowCache::Find(std::string_view node_id, std::int64_t version,
                                             std::int64_t row_xmin, bool confirmed,
                                             Steady::time_point asked_at) {
  std::lock_guard lock(mutex_);
  auto found = rows_.find(node_id);
  if (found == rows_.end() || found->second.node->version != version ||
      found->second.row_xmin != row_xmin) {
    return std::nullopt;
  }
  recency_.splice(recency_.begin(), recency_, found->second.recency);
  if (confirmed) found->second.read = true;
  found->second.confirmed_at = std::max(found->second.confirmed_at, asked_at);
  return *found->second.node;
}

std::optional<NodeRecord> NodeRowCache::ReadAt(std::string_view node_id, std::int64_t version,
                                               std::int64_t row_xmin) {
  std::lock_guard lock(mutex_);
  auto found = rows_.find(node_id);
  if (found == rows_.end() || !found->second.read || found->second.node->version != version ||
      found->second.row_xmin != row_xmin) {
    return std::nullopt;
  }
  return *found->second.node;
}

std::shared_ptr<const NodeRecord> NodeRowCache::Stored(std::string_view node_id,
                                                       std::int64_t version) {
  std::lock_guard lock(mutex_);
  auto found = rows_.find(node_id);
  if (found == rows_.end() || found->second.node->version != version) return nullptr;
  return found->second.node;
}

void NodeRowCache::Put(NodeRecord node, std::int64_t row_xmin, bool confirmed,
                       Steady::time_point asked_at) {
  node.row_token = row_xmin;
  std::lock_guard lock(mutex_);
  auto found = rows_.find(node.node_id);
  if (found != rows_.end() && found->second.node->version > node.version) return;
  if (auto committed = committed_versions_.find(node.node_id);
      committed != committed_versions_.end()) {
    if (committed->second > node.version) return;
    committed_versions_.erase(committed);
  }
  PutLocked(std::move(node), row_xmin, confirmed, asked_at);
}

void NodeRowCache::PutLocked(NodeRecord node, std::int64_t row_xmin, bool read,
                             Steady::time_point asked_at) {
  const std::size_t bytes = NodeRowBytes(node);
  EraseLocked(node.node_id);
  if (bytes > byte_budget_) return;
  while (bytes_ + bytes > byte_budget_ && !recency_.empty()) {
    const std::string oldest = recency_.back();
    EraseLocked(oldest);
  }
  recency_.push_front(node.node_id);
  std::string key = node.node_id;
  rows_.emplace(std::move(key), Entry{std::make_shared<const NodeRecord>(std::move(node)), row_xmin,
                                      bytes, recency_.begin(), read, asked_at});
  bytes_ += bytes;
}

void NodeRowCache::PutRoutineUpdate(const NodeRecord& node, std::int64_t row_xmin,
                                    Steady::time_point asked_at) {
  std::lock_guard lock(mutex_);
  auto found = rows_.find(node.node_id);
  if (found == rows_.end() || found->second.node->version != node.version ||
      found->second.row_xmin != node.row_token) {
    ForgetBelowLocked(node.node_id, node.version + 1);
    return;
  }
  NodeRecord updated = *found->second.node;
  updated.last_attestation = node.last_attestation;
  updated.last_verdict_json = node.last_verdict_json;
  updated.last_clock = node.last_clock;
  updated.last_reset_count = node.last_reset_count;
  updated.last_restart_count = node.last_restart_count;
  updated.boot_cache = node.boot_cache;
  updated.runtime_cache = node.runtime_cache;
  updated.version = node.version + 1;
  updated.row_token = row_xmin;
  PutLocked(std::move(updated), row_xmin, false, asked_at);
}

void NodeRowCache::Forget(std::string_view node_id) {
  std::lock_guard lock(mutex_);
  EraseLocked(node_id);
}

void NodeRowCache::ForgetBelow(std::string_view node_id, std::int64_t version) {
  std::lock_guard lock(mutex_);
  ForgetBelowLocked(node_id, version);
}

void NodeRowCache::ForgetBelowLocked(std::string_view node_id, std::int64_t version) {
  EraseLocked(node_id);
  auto [committed, added] = committed_versions_.try_emplace(std::string(node_id), version);
  if (!added) committed->second = std::max(committed->second, version);
}

std::optional<NodeRecord> NodeRowCache::LastKnown(std::string_view node_id,
                                                  Steady::time_point now) {
  std::lock_guard lock(mutex_);
  if (!SoloLocked(now)) return std::nullopt;
  auto found = rows_.find(node_id);
  if (found == rows_.end() || found->second.confirmed_at <= other_writer_sign_) return std::nullopt;
  const NodeState state = found->second.node->state;
  if (state == NodeState::kPendingApproval || state == NodeState::kRevoked) return std::nullopt;
  recency_.splice(recency_.begin(), recency_, found->second.recency);
  found->second.read = true;
  return *found->second.node;
}

void NodeRowCache::Observe(std::string_view node_id, std::int64_t version, Steady::time_point now) {
  std::lock_guard lock(mutex_);
  if (writes_under_way_.contains(node_id)) return;
  auto found = rows_.find(node_id);
  if (found == rows_.end() || found->second.node->version >= version) return;
  DistrustLocked(node_id, now);
}

void NodeRowCache::ObserveGone(std::string_view node_id, Steady::time_point now) {
  std::lock_guard lock(mutex_);
  if (rows_.contains(node_id)) DistrustLocked(node_id, now);
}

void NodeRowCache::Distrust(std::string_view node_id, Steady::time_point now) {
  std::lock_guard lock(mutex_);
  DistrustLocked(node_id, now);
}

void NodeRowCache::DistrustLocked(std::string_view node_id, Steady::time_point now) {
  EraseLocked(node_id);
  other_writer_sign_ = std::max(other_writer_sign_, now);
}

void NodeRowCache::Alone(Steady::time_point now) {
  std::lock_guard lock(mutex_);
  alone_at_ = std::max(alone_at_.value_or(now), now);
}

void NodeRowCache::EndSolo(Steady::time_point now) {
  std::lock_guard lock(mutex_);
  other_writer_sign_ = std::max(other_writer_sign_, now);
  alone_at_.reset();
}

bool NodeRowCache::Solo(Steady::time_point now) {
  std::lock_guard lock(mutex_);
  return SoloLocked(now);
}

bool NodeRowCache::SoloLocked(Steady::time_point now) const {
  return alone_at_ && now - *alone_at_ <= kAloneFor && now - other_writer_sign_ >= solo_after_;
}

NodeRowCache::WriteUnderWay::WriteUnderWay(NodeRowCache& cache, std::string node_id)
    : cache_(cache), node_id_(std::move(node_id)) {
  std::lock_guard lock(cache_.mutex_);
  ++cache_.writes_under_way_[node_id_];
}

NodeRowCache::WriteUnderWay::~WriteUnderWay() {
  std::lock_guard lock(cache_.mutex_);
  auto found = cache_.writes_under_way_.find(node_id_);
  if (found != cache_.writes_under_way_.end() && --found->second == 0) {
    cache_.writes_under_way_.erase(found);
  }
}

void NodeRowCache::EraseLocked(std::string_view node_id) {
  auto found = rows_.find(node_id);
  if (found == rows_.end()) return;
  bytes_ -= found->second.bytes;
  recency_.erase(found->second.recency);
  rows_.erase(found);
}

}  // namespace attest::service::internal
