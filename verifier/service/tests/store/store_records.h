// Records for the store's tests, whatever the backend: a fixed clock,
// records with every field set, and the checks that two records agree.
#pragma once

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "attest/service/store.h"

namespace attest::service::test {

// A fixed, microsecond-aligned instant (the store keeps microseconds).
TimePoint At(std::int64_t seconds);

std::string NodeId(int n);   // 64 lowercase hex, distinct per n
NodeRecord MakeNode(int n);  // every optional field set
EnrollmentRecord MakeEnrollment(int n);
CertificateRecord MakeCertificate(const std::string& node_id, const std::string& serial,
                                  TimePoint not_before, TimePoint not_after);
TokenRecord MakeTokenRecord(int n);
PolicyRecord MakePolicy(std::uint64_t serial);
LedgerEvent MakeEvent(std::string_view kind, int n);
Bytes ChallengeNonce(int n);  // 32 bytes, distinct per n

// Every field but the version agrees (gtest expectations).
void ExpectSameNode(const NodeRecord& a, const NodeRecord& b);

// What a later trusted attestation of `node` changes (RecordRoutineUpdate),
// distinct per round.
NodeRecord RoutineOf(NodeRecord node, int round);
// The routine fields of `read` are those of `written` (gtest expectations).
void ExpectRoutineFields(const NodeRecord& read, const NodeRecord& written);

// The stored node, or a default record after failing the test.
NodeRecord MustRead(ServiceStore& store, const std::string& node_id);

}  // namespace attest::service::test
