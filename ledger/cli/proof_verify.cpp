// Offline verification of a proof document printed by `ledger proof`.
#include <algorithm>

#include "attest/encoding.h"
#include "attest/json.h"
#include "attest/ledger/checkpoint.h"
#include "attest/ledger/export.h"

#include "cli/cli.h"

namespace attest::ledger::cli {
namespace {

Result<std::uint64_t> SizeField(const Json& document, const char* name) {
  const Json* value = FindMember(document, name);
  if (value == nullptr || !value->is_number_unsigned()) {
    return MakeError(ErrorCode::kCorrupt,
                     std::string("\"") + name + "\" is missing or not an integer");
  }
  return value->get<std::uint64_t>();
}

Result<Hash> HashValue(const Json* value, const std::string& name) {
  Hash hash{};
  if (value == nullptr || !value->is_string()) {
    return MakeError(ErrorCode::kCorrupt, "\"" + name + "\" is missing");
  }
  auto bytes = HexDecode(value->get<std::string>());
  if (!bytes.ok() || bytes->size() != hash.size()) {
    return MakeError(ErrorCode::kCorrupt, "\"" + name + "\" is not a hex SHA-256 hash");
  }
  std::copy(bytes->begin(), bytes->end(), hash.begin());
  return hash;
}

Result<std::vector<Hash>> ProofField(const Json& document) {
  const Json* proof = FindMember(document, "proof");
  if (proof == nullptr || !proof->is_array()) {
    return MakeError(ErrorCode::kCorrupt, "\"proof\" is missing or not an array");
  }
  std::vector<Hash> hashes;
  for (std::size_t i = 0; i < proof->size(); ++i) {
    ATTEST_ASSIGN_OR_RETURN(Hash hash, HashValue(&(*proof)[i], "proof[" + std::to_string(i) + "]"));
    hashes.push_back(hash);
  }
  return hashes;
}

// Fails unless a checkpoint signed by `key` vouches for (size, root).
Status CheckSignedRoot(const Json& document, const char* field, std::uint64_t size,
                       const Hash& root, const NoteVerifier& key) {
  const Json* note = FindMember(document, field);
  if (note == nullptr || !note->is_string()) {
    return MakeError(ErrorCode::kVerificationFailed,
                     std::string("no \"") + field + "\": the root of the tree of size " +
                         std::to_string(size) + " is not signed, so the proof shows nothing");
  }
  ATTEST_ASSIGN_OR_RETURN(Checkpoint checkpoint, OpenCheckpoint(note->get<std::string>(), key));
  if (checkpoint.tree_size != size || checkpoint.root_hash != root) {
    return MakeError(ErrorCode::kVerificationFailed, std::string(field) +
                                                         " does not sign tree size " +
                                                         std::to_string(size) + " with this root");
  }
  return OkStatus();
}

Status VerifyInclusionDocument(const Json& document, const NoteVerifier& key) {
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t size, SizeField(document, "tree_size"));
  ATTEST_ASSIGN_OR_RETURN(Hash root, HashValue(FindMember(document, "root_hash"), "root_hash"));
  ATTEST_ASSIGN_OR_RETURN(std::vector<Hash> proof, ProofField(document));
  const Json* entry_json = FindMember(document, "entry");
  if (entry_json == nullptr) return MakeError(ErrorCode::kCorrupt, "\"entry\" is missing");
  Entry entry;
  ATTEST_RETURN_IF_ERROR(ParseExportEntry(*entry_json, entry).WithContext("entry"));
  const Hash leaf = ComputeEntryHash(entry.seq, entry.content);
  if (leaf != entry.entry_hash) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "the entry's content does not hash to its entry_hash: the entry was changed");
  }
  ATTEST_RETURN_IF_ERROR(VerifyInclusion(entry.seq - 1, size, leaf, proof, root));
  return CheckSignedRoot(document, "checkpoint", size, root, key);
}

Status VerifyConsistencyDocument(const Json& document, const NoteVerifier& key) {
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t old_size, SizeField(document, "old_size"));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t new_size, SizeField(document, "new_size"));
  ATTEST_ASSIGN_OR_RETURN(Hash old_root, HashValue(FindMember(document, "old_root"), "old_root"));
  ATTEST_ASSIGN_OR_RETURN(Hash new_root, HashValue(FindMember(document, "new_root"), "new_root"));
  ATTEST_ASSIGN_OR_RETURN(std::vector<Hash> proof, ProofField(document));
  ATTEST_RETURN_IF_ERROR(VerifyConsistency(old_size, new_size, old_root, new_root, proof));
  if (old_size > 0) {
    ATTEST_RETURN_IF_ERROR(CheckSignedRoot(document, "old_checkpoint", old_size, old_root, key));
  }
  return CheckSignedRoot(document, "new_checkpoint", new_size, new_root, key);
}

}  // namespace

int VerifyProofDocument(const Json& document, const NoteVerifier& key, std::ostream& out) {
  const Json* type = FindMember(document, "type");
  Status verified =
      MakeError(ErrorCode::kCorrupt, "\"type\" must be \"inclusion\" or \"consistency\"");
  if (type != nullptr && *type == "inclusion") verified = VerifyInclusionDocument(document, key);
  if (type != nullptr && *type == "consistency")
    verified = VerifyConsistencyDocument(document, key);
  if (verified.ok()) {
    out << "verified: " << type->get<std::string>() << " proof, signed by "
        << DescribeKey(key.name, key.key_id) << "\n";
    return kExitOk;
  }
  out << "VERIFICATION FAILED: " << verified.error().message << "\n";
  // A malformed proof document (or sizes no proof can have) is bad input; a
  // well-formed proof that does not verify is a verification failure.
  const ErrorCode code = verified.error().code;
  return code == ErrorCode::kCorrupt || code == ErrorCode::kInvalidArgument
             ? kExitUsageOrInput
             : kExitVerificationFailed;
}

}  // namespace attest::ledger::cli
