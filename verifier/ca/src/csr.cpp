#include "csr.h"

#include <string>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "attest/verifier/key_certification.h"

#include "pki.h"

namespace attest::verifier {
namespace {

constexpr std::string_view kPemBegin = "-----BEGIN ";
constexpr std::string_view kWhitespace = " \t\r\n";

Error BadCsr(std::string what) {
  return MakeError(ErrorCode::kInvalidArgument, "CSR: " + std::move(what));
}

}  // namespace

Result<X509ReqPtr> ParseCsr(std::string_view pem) {
  if (pem.size() > kMaxCsrBytes) {
    return BadCsr("larger than the " + std::to_string(kMaxCsrBytes) + "-byte limit");
  }
  const std::size_t first = pem.find(kPemBegin);
  if (first == std::string_view::npos || pem.find_first_not_of(kWhitespace) != first ||
      pem.find(kPemBegin, first + 1) != std::string_view::npos) {
    return BadCsr("not exactly one PEM block");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpensslError("read CSR");
  X509ReqPtr request(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!request) {
    Error error = OpensslError("", ErrorCode::kInvalidArgument);
    return BadCsr("not a PKCS#10 certificate request in PEM" + error.message);
  }
  char* rest = nullptr;
  const long rest_size = BIO_get_mem_data(bio.get(), &rest);
  if (std::string_view(rest, static_cast<std::size_t>(rest_size)).find_first_not_of(kWhitespace) !=
      std::string_view::npos) {
    return BadCsr("bytes after the PEM block");
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(request.get());
  if (key == nullptr) {
    ERR_clear_error();
    return BadCsr("its public key does not parse");
  }
  int digest_nid = NID_undef;
  int key_nid = NID_undef;
  if (OBJ_find_sigid_algs(X509_REQ_get_signature_nid(request.get()), &digest_nid, &key_nid) != 1) {
    return BadCsr("unknown signature algorithm");
  }
  if (digest_nid == NID_sha1 || digest_nid == NID_md5 || digest_nid == NID_md4) {
    return BadCsr(std::string("signed with ") + OBJ_nid2sn(digest_nid) +
                  "; SHA-256 or stronger is required");
  }
  if (X509_REQ_verify(request.get(), key) != 1) {
    ERR_clear_error();
    return BadCsr("its self-signature does not verify with its key");
  }
  return request;
}

Result<Bytes> CsrPublicKey(std::string_view csr_pem) {
  ATTEST_ASSIGN_OR_RETURN(X509ReqPtr request, ParseCsr(csr_pem));
  return pki::PublicKeyDer(X509_REQ_get0_pubkey(request.get()));
}

}  // namespace attest::verifier
