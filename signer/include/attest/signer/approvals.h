// What the verifier's runtime policy trusts (FORMAT.md §4.1), read from the
// ledger: approved runtime digests, and whether a policy file carries a
// valid admin signature.
#pragma once

#include <cstddef>
#include <set>

#include "attest/error.h"
#include "attest/ledger/ledger.h"
#include "attest/sha256.h"
#include "attest/signer/envelope.h"
#include "attest/signer/public_key.h"
#include "attest/signer/verify.h"

namespace attest::signer {

struct ApprovedSet {
  std::set<Sha256Digest> digests;
  // artifact.approved / artifact.revoked entries not taken into account:
  // unsigned, a bad signature, an untrusted key, a malformed payload, a
  // signed time after the ledger's record of it, or an approval of a
  // directory manifest or by an older envelope version.
  std::size_t ignored_entries = 0;
};

// A digest is approved when a valid `artifact.approved` entry (of a file's
// digest, envelope version 2) signed by a key in `trusted` was signed later
// than every valid `artifact.revoked` entry of it by a trusted key: the
// signed times decide, not the order of entries, so an old approval copied
// after its revocation changes nothing. A statement signed more than five
// minutes after the ledger recorded it is ignored. Other kinds are skipped.
// A key is trusted by its full public key, never by the key id a payload
// names. The ledger is not const because reading it uses its store
// connection.
Result<ApprovedSet> ApprovedRuntimeDigests(ledger::Ledger& ledger, const TrustedKeys& trusted);

// Whether `policy_path` carries a valid admin signature: VerifyFile with
// purpose policy against `admins`. kValid or the VerifyFile reasons.
Result<VerifyResult> VerifyPolicySignature(const std::string& policy_path, const Envelope& envelope,
                                           const TrustedKeys& admins);

}  // namespace attest::signer
