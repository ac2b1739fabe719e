// RecordRoutineUpdate's body: one UPDATE of a node's routine columns (last
// attestation, verdict, quote clock, boot and runtime caches), guarded by
// the version and the state the caller read, run inside the writer's
// transaction. The other columns are not in the statement, so a routine
// update cannot change a node's state, keys or enrollment whatever the
// caller passes.
#include "src/store/fields.h"
#include "src/store/sqlite_internal.h"

namespace attest::service::internal {
namespace {

// Parameters 1-9 are bound by BindNodeRoutineColumns, 10-13 by
// BindNodeRuntimeColumns, in this order.
constexpr const char* kRoutineUpdate =
    "UPDATE nodes SET last_attestation = ?1, last_verdict = ?2, last_clock = ?3, "
    "last_reset_count = ?4, last_restart_count = ?5, boot_reset_count = ?6, "
    "boot_restart_count = ?7, boot_log_digest = ?8, boot_state = ?9, "
    "runtime_reset_count = ?10, runtime_restart_count = ?11, runtime_entries = ?12, "
    "runtime_state = ?13, version = version + 1 "
    "WHERE node_id = ?14 AND version = ?15 AND state = ?16 RETURNING version";

// Why the guarded UPDATE matched no row, as Commit would say it.
Status ExplainNoMatch(Connection& writer, const NodeRecord& node) {
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement * read,
                          writer.Prepared("SELECT version, state FROM nodes WHERE node_id = ?"));
  ResetOnExit reset(*read);
  ATTEST_RETURN_IF_ERROR(read->BindText(1, node.node_id));
  ATTEST_ASSIGN_OR_RETURN(bool found, read->Step());
  if (!found) {
    return MakeError(
        ErrorCode::kNotFound,
        "node " + node.node_id + ": no such node (a routine update never creates one)");
  }
  const std::int64_t stored = read->ColumnInt64(0);
  if (stored != node.version) {
    return MakeError(ErrorCode::kBusy, "node " + node.node_id + " changed since it was read " +
                                           "(version " + std::to_string(node.version) +
                                           ", stored " + std::to_string(stored) +
                                           "); read it again");
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "node " + node.node_id + ": a routine update keeps the state (stored " +
                       std::string(read->ColumnText(1)) + ", given " +
                       std::string(NodeStateName(node.state)) + "); a state change is a Commit");
}

}  // namespace

Status ApplyRoutineUpdate(Connection& writer, const NodeRecord& node) {
  if (node.version < 0 || node.version == kMaxInt64) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "node.version: " + std::to_string(node.version) + " is out of range");
  }
  ATTEST_ASSIGN_OR_RETURN(SqliteStatement * update, writer.Prepared(kRoutineUpdate));
  bool matched = false;
  {
    ResetOnExit reset(*update);
    Binder bind(*update, "node");
    ATTEST_RETURN_IF_ERROR(BindNodeRoutineColumns(bind, node));
    ATTEST_RETURN_IF_ERROR(BindNodeRuntimeColumns(bind, node));
    ATTEST_RETURN_IF_ERROR(bind.Hex("node_id", node.node_id, 64, 64));
    ATTEST_RETURN_IF_ERROR(bind.Int("version", node.version, 0, kMaxInt64 - 1));
    ATTEST_RETURN_IF_ERROR(bind.Text("state", NodeStateName(node.state), kMaxShortTextBytes));
    ATTEST_ASSIGN_OR_RETURN(matched, update->Step());
  }
  return matched ? OkStatus() : ExplainNoMatch(writer, node);
}

}  // namespace attest::service::internal
