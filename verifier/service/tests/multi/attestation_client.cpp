#include "attestation_client.h"

#include <cctype>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest/openssl.h"

namespace attest::service::test {

std::string ErrorCodeOf(const Json& body) {
  const Json* error = body.is_object() ? FindMember(body, "error") : nullptr;
  const Json* code = error != nullptr && error->is_object() ? FindMember(*error, "code") : nullptr;
  return code != nullptr && code->is_string() ? code->get<std::string>() : "";
}

bool Trusted(const Result<Attestation>& result) {
  if (!result.ok() || result->status != 200 || !result->body.is_object()) return false;
  const Json* verdict = FindMember(result->body, "verdict");
  const Json* trusted = verdict != nullptr ? FindMember(*verdict, "trusted") : nullptr;
  return trusted != nullptr && trusted->is_boolean() && trusted->get<bool>();
}

std::string Describe(const Result<Attestation>& result) {
  if (!result.ok()) return result.error().ToString();
  return "HTTP " + std::to_string(result->status) + " " + result->body.dump().substr(0, 400);
}

Result<std::string> LeafSerial(const std::string& chain_pem) {
  BioPtr bio(BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size())));
  if (!bio) return OpensslError("BIO_new_mem_buf");
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) return OpensslError("read the leaf certificate", ErrorCode::kCorrupt);
  BignumPtr number(ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf.get()), nullptr));
  if (!number) return OpensslError("read its serial", ErrorCode::kCorrupt);
  char* hex = BN_bn2hex(number.get());
  if (hex == nullptr) return OpensslError("print its serial");
  std::string text = hex;
  OPENSSL_free(hex);
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::size_t first = text.find_first_not_of('0');
  return first == std::string::npos ? std::string("0") : text.substr(first);
}

namespace {

// The status, parsed body and Retry-After of `response` into `result`.
Status Take(const http::ClientResponse& response, Attestation& result) {
  result.status = response.status;
  result.retry_after.clear();
  for (const auto& [name, value] : response.headers) {
    if (name == "retry-after") result.retry_after = value;
  }
  ATTEST_ASSIGN_OR_RETURN(result.body, ParseJsonStrict(response.body));
  return OkStatus();
}

}  // namespace

Result<Attestation> AttestAcross(SimulatedNode& node, http::Client& challenger,
                                 http::Client& answerer, const AttestOptions& options) {
  const std::string base = "/v1/nodes/" + node.node_id();
  ATTEST_ASSIGN_OR_RETURN(http::ClientResponse issued, challenger.Post(base + "/challenges", "{}"));
  Attestation result;
  ATTEST_RETURN_IF_ERROR(Take(issued, result));
  if (issued.status != 201) return result;
  const Json challenge = result.body;
  ATTEST_ASSIGN_OR_RETURN(std::string evidence, node.EvidenceFor(challenge, options));
  const Json* cached = FindMember(challenge, "boot_log_cached");
  result.sent_boot_log =
      options.force_boot_log || cached == nullptr || !cached->is_boolean() || !cached->get<bool>();
  ATTEST_ASSIGN_OR_RETURN(http::ClientResponse answered,
                          answerer.Post(base + "/evidence", evidence));
  ATTEST_RETURN_IF_ERROR(Take(answered, result));
  return result;
}

}  // namespace attest::service::test
