// NodeRowCache (postgres_internal.h): a least-recently-used map of node
// rows under a byte budget, shared by the store's connections.
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

NodeRowCache::NodeRowCache(std::size_t byte_budget) : byte_budget_(byte_budget) {}

std::optional<NodeRecord> NodeRowCache::Find(std::string_view node_id, std::int64_t version,
                                             std::int64_t row_xmin, bool confirmed) {
  std::lock_guard lock(mutex_);
  auto found = rows_.find(node_id);
  if (found == rows_.end() || found->second.node->version != version ||
      found->second.row_xmin != row_xmin) {
    return std::nullopt;
  }
  recency_.splice(recency_.begin(), recency_, found->second.recency);
  if (confirmed) found->second.read = true;
  return *found->second.node;
}

std::optional<NodeRecord> NodeRowCache::ReadAt(std::string_view node_id, std::int64_t version) {
  std::lock_guard lock(mutex_);
  auto found = rows_.find(node_id);
  if (found == rows_.end() || !found->second.read || found->second.node->version != version) {
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

void NodeRowCache::Put(NodeRecord node, std::int64_t row_xmin, bool confirmed) {
  node.row_token = row_xmin;
  std::lock_guard lock(mutex_);
  PutLocked(std::move(node), row_xmin, confirmed);
}

void NodeRowCache::PutLocked(NodeRecord node, std::int64_t row_xmin, bool read) {
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
                                      bytes, recency_.begin(), read});
  bytes_ += bytes;
}

void NodeRowCache::PutRoutineUpdate(const NodeRecord& node, std::int64_t row_xmin) {
  std::lock_guard lock(mutex_);
  auto found = rows_.find(node.node_id);
  if (found == rows_.end() || found->second.node->version != node.version ||
      found->second.row_xmin != node.row_token) {
    EraseLocked(node.node_id);
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
  PutLocked(std::move(updated), row_xmin, false);
}

void NodeRowCache::Forget(std::string_view node_id) {
  std::lock_guard lock(mutex_);
  EraseLocked(node_id);
}

void NodeRowCache::EraseLocked(std::string_view node_id) {
  auto found = rows_.find(node_id);
  if (found == rows_.end()) return;
  bytes_ -= found->second.bytes;
  recency_.erase(found->second.recency);
  rows_.erase(found);
}

}  // namespace attest::service::internal
