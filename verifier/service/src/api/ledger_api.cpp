// The audit ledger over the API (reader): entries by range, a signed
// checkpoint (a fresh one when the ledger grew), inclusion and consistency
// proofs in the documents `ledger proof verify` reads, and the JSON Lines
// export `ledger verify` checks offline.
#include <charconv>
#include <sstream>

#include "attest/encoding.h"
#include "attest/ledger/export.h"

#include "context.h"

namespace attest::service::api {
namespace {

constexpr std::uint64_t kMaxEntriesPage = 1000;

Result<std::uint64_t> QueryNumber(const http::Request& request, std::string_view name,
                                  std::optional<std::uint64_t> fallback) {
  std::optional<std::string_view> text = request.Query(name);
  if (!text) {
    if (fallback) return *fallback;
    return MakeError(ErrorCode::kInvalidArgument, std::string(name) + ": required");
  }
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size()) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(name) + ": not a number");
  }
  return value;
}

ApiError QueryError(const Error& error) { return BadRequest("INVALID_QUERY", error.message); }

Json HashArray(const std::vector<ledger::Hash>& hashes) {
  Json array = Json::array();
  for (const ledger::Hash& hash : hashes) array.push_back(HexEncode(hash));
  return array;
}

// The entry as the export writes it: one serializer for the API and the
// export, so a reviewer compares the two byte for byte.
Result<Json> EntryJson(const ledger::Entry& entry) {
  std::string line;
  ledger::AppendEntryLine(entry, line);
  return ParseJsonStrict(line);
}

http::Response Entries(Context& context, const http::Request& request) {
  if (auto denied = Authorize(context, request, Role::kReader)) return ErrorResponse(*denied);
  std::lock_guard lock(context.ledger_mutex);
  auto size = context.ledger->Size();
  if (!size.ok()) return ErrorResponse(FromError(size.error()));
  auto from = QueryNumber(request, "from", 1);
  if (!from.ok()) return ErrorResponse(QueryError(from.error()));
  auto to = QueryNumber(request, "to", std::min(*size, *from + kMaxEntriesPage - 1));
  if (!to.ok()) return ErrorResponse(QueryError(to.error()));
  if (*from == 0 || *to < *from || *to - *from >= kMaxEntriesPage) {
    return ErrorResponse(BadRequest("INVALID_QUERY", "from..to: 1 <= from <= to, at most 1000"));
  }
  Json entries = Json::array();
  for (std::uint64_t seq = *from; seq <= std::min(*to, *size); ++seq) {
    auto entry = context.ledger->Get(seq);
    if (!entry.ok()) return ErrorResponse(FromError(entry.error()));
    auto json = EntryJson(*entry);
    if (!json.ok()) return ErrorResponse(FromError(json.error()));
    entries.push_back(std::move(json).value());
  }
  return JsonResponse(200, {{"size", *size}, {"entries", entries}});
}

http::Response Checkpoint(Context& context, const http::Request& request) {
  if (auto denied = Authorize(context, request, Role::kReader)) return ErrorResponse(*denied);
  std::lock_guard lock(context.ledger_mutex);
  auto checkpoint = context.ledger->SignCheckpoint(*context.ledger_signer);
  if (!checkpoint.ok()) return ErrorResponse(FromError(checkpoint.error()));
  return TextResponse(200, "text/plain; charset=utf-8", checkpoint->note);
}

http::Response Inclusion(Context& context, const http::Request& request) {
  if (auto denied = Authorize(context, request, Role::kReader)) return ErrorResponse(*denied);
  std::lock_guard lock(context.ledger_mutex);
  auto size = context.ledger->Size();
  if (!size.ok()) return ErrorResponse(FromError(size.error()));
  auto seq = QueryNumber(request, "seq", std::nullopt);
  if (!seq.ok()) return ErrorResponse(QueryError(seq.error()));
  auto tree_size = QueryNumber(request, "tree_size", *size);
  if (!tree_size.ok()) return ErrorResponse(QueryError(tree_size.error()));
  if (*seq == 0 || *seq > *tree_size || *tree_size > *size) {
    return ErrorResponse(BadRequest("INVALID_QUERY", "need 1 <= seq <= tree_size <= size"));
  }
  auto proof = context.ledger->ProveInclusion(*seq, *tree_size);
  auto entry = context.ledger->Get(*seq);
  auto root = context.ledger->RootAt(*tree_size);
  if (!proof.ok()) return ErrorResponse(FromError(proof.error()));
  if (!entry.ok()) return ErrorResponse(FromError(entry.error()));
  if (!root.ok()) return ErrorResponse(FromError(root.error()));
  auto entry_json = EntryJson(*entry);
  if (!entry_json.ok()) return ErrorResponse(FromError(entry_json.error()));
  Json body = {{"type", "inclusion"},
               {"seq", *seq},
               {"leaf_index", *seq - 1},
               {"tree_size", *tree_size},
               {"leaf_hash", HexEncode(entry->entry_hash)},
               {"root_hash", HexEncode(*root)},
               {"proof", HashArray(*proof)},
               {"entry", std::move(entry_json).value()}};
  auto stored = context.ledger->store().CheckpointAt(*tree_size);
  if (stored.ok() && *stored) body["checkpoint"] = (*stored)->note;
  return JsonResponse(200, body);
}

http::Response Consistency(Context& context, const http::Request& request) {
  if (auto denied = Authorize(context, request, Role::kReader)) return ErrorResponse(*denied);
  std::lock_guard lock(context.ledger_mutex);
  auto size = context.ledger->Size();
  if (!size.ok()) return ErrorResponse(FromError(size.error()));
  auto from = QueryNumber(request, "from", std::nullopt);
  if (!from.ok()) return ErrorResponse(QueryError(from.error()));
  auto to = QueryNumber(request, "to", *size);
  if (!to.ok()) return ErrorResponse(QueryError(to.error()));
  if (*from > *to || *to > *size) {
    return ErrorResponse(BadRequest("INVALID_QUERY", "need from <= to <= size"));
  }
  auto proof = context.ledger->ProveConsistency(*from, *to);
  auto old_root = context.ledger->RootAt(*from);
  auto new_root = context.ledger->RootAt(*to);
  if (!proof.ok()) return ErrorResponse(FromError(proof.error()));
  if (!old_root.ok()) return ErrorResponse(FromError(old_root.error()));
  if (!new_root.ok()) return ErrorResponse(FromError(new_root.error()));
  return JsonResponse(200, {{"type", "consistency"},
                            {"old_size", *from},
                            {"new_size", *to},
                            {"old_root", HexEncode(*old_root)},
                            {"new_root", HexEncode(*new_root)},
                            {"proof", HashArray(*proof)}});
}

// The whole ledger up to a fresh checkpoint, in memory (a streaming body
// would need the server to stream; ledgers are MiB, not GiB, today).
http::Response Export(Context& context, const http::Request& request) {
  if (auto denied = Authorize(context, request, Role::kReader)) return ErrorResponse(*denied);
  std::lock_guard lock(context.ledger_mutex);
  auto checkpoint = context.ledger->SignCheckpoint(*context.ledger_signer);
  if (!checkpoint.ok()) return ErrorResponse(FromError(checkpoint.error()));
  std::ostringstream out;
  Status written =
      ledger::WriteExport(*context.ledger, *checkpoint, ledger::ExportFormat::kJsonLines, out);
  if (!written.ok()) return ErrorResponse(FromError(written.error()));
  return TextResponse(200, "application/jsonl", out.str());
}

}  // namespace

void AddLedgerRoutes(Router& router, Context& context) {
  router.Add("GET /v1/ledger/entries", [&context](const http::Request& request, const PathParams&) {
    return Entries(context, request);
  });
  router.Add("GET /v1/ledger/checkpoint",
             [&context](const http::Request& request, const PathParams&) {
               return Checkpoint(context, request);
             });
  router.Add("GET /v1/ledger/proofs/inclusion",
             [&context](const http::Request& request, const PathParams&) {
               return Inclusion(context, request);
             });
  router.Add("GET /v1/ledger/proofs/consistency",
             [&context](const http::Request& request, const PathParams&) {
               return Consistency(context, request);
             });
  router.Add("GET /v1/ledger/export", [&context](const http::Request& request, const PathParams&) {
    return Export(context, request);
  });
}

}  // namespace attest::service::api
