#include "pki.h"

#include <array>
#include <cctype>
#include <ctime>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "attest/file.h"

namespace attest::verifier::pki {
namespace {

using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpensslDeleter<GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpensslDeleter<GENERAL_NAME_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, OpensslDeleter<ASN1_STRING_free>>;

constexpr std::size_t kP256FieldBytes = 32;

std::string Lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

Result<GeneralNamePtr> MakeGeneralName(const AltName& name) {
  int type = GEN_DNS;
  Asn1StringPtr value;
  switch (name.kind) {
    case AltName::Kind::kDns:
      value.reset(ASN1_IA5STRING_new());
      break;
    case AltName::Kind::kUri:
      type = GEN_URI;
      value.reset(ASN1_IA5STRING_new());
      break;
    case AltName::Kind::kIp:
      type = GEN_IPADD;
      value.reset(ASN1_OCTET_STRING_new());
      break;
  }
  GeneralNamePtr general(GENERAL_NAME_new());
  if (!value || !general ||
      ASN1_STRING_set(value.get(), name.value.data(), static_cast<int>(name.value.size())) != 1) {
    return OpensslError("build subjectAltName entry");
  }
  GENERAL_NAME_set0_value(general.get(), type, value.release());
  return general;
}

}  // namespace

Status SetTime(ASN1_TIME* field, TimePoint time) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(time.time_since_epoch()).count();
  // ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime after, as
  // RFC 5280 §4.1.2.5 requires.
  if (ASN1_TIME_set(field, static_cast<std::time_t>(seconds)) == nullptr) {
    return OpensslError("set an X.509 time");
  }
  return OkStatus();
}

Result<TimePoint> ToTimePoint(const ASN1_TIME* time) {
  std::tm parts{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) {
    return OpensslError("read an X.509 time", ErrorCode::kCorrupt);
  }
  return TimePoint(std::chrono::seconds(timegm(&parts)));
}

Result<Asn1IntegerPtr> RandomSerial() {
  std::array<unsigned char, 16> bytes{};
  BignumPtr number(BN_new());
  if (!number) return OpensslError("allocate a serial");
  do {
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      return OpensslError("draw a random serial");
    }
    bytes[0] &= 0x7f;
    if (BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), number.get()) == nullptr) {
      return OpensslError("build a serial");
    }
  } while (BN_is_zero(number.get()));
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(number.get(), nullptr));
  if (!serial) return OpensslError("encode a serial");
  return serial;
}

Result<std::string> SerialHex(const ASN1_INTEGER* serial) {
  BignumPtr number(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!number) return OpensslError("read a serial", ErrorCode::kCorrupt);
  char* hex = BN_bn2hex(number.get());
  if (hex == nullptr) return OpensslError("print a serial");
  std::string text = Lowercase(hex);
  OPENSSL_free(hex);
  std::size_t first = text.find_first_not_of('0');
  return first == std::string::npos ? std::string("0") : text.substr(first);
}

Result<Asn1IntegerPtr> SerialFromHex(std::string_view hex) {
  if (hex.empty() || hex.size() > 40 ||
      hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "serial \"" + std::string(hex) + "\" is not 1 to 40 lowercase hex digits");
  }
  const std::string text(hex);
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, text.c_str()) != static_cast<int>(text.size())) {
    BN_free(raw);
    return OpensslError("parse serial " + text, ErrorCode::kInvalidArgument);
  }
  BignumPtr number(raw);
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(number.get(), nullptr));
  if (!serial) return OpensslError("encode serial " + text);
  return serial;
}

Result<X509NamePtr> CommonName(std::string_view common_name) {
  X509NamePtr name(X509_NAME_new());
  if (!name ||
      X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return OpensslError("commonName \"" + std::string(common_name) + "\"",
                        ErrorCode::kInvalidArgument);
  }
  return name;
}

Status AddExtension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value));
  if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
    return OpensslError(std::string("add extension ") + OBJ_nid2sn(nid));
  }
  return OkStatus();
}

Status AddSubjectAltName(X509* certificate, const std::vector<AltName>& names) {
  GeneralNamesPtr general_names(sk_GENERAL_NAME_new_null());
  if (!general_names) return OpensslError("allocate subjectAltName");
  for (const AltName& name : names) {
    ATTEST_ASSIGN_OR_RETURN(GeneralNamePtr general, MakeGeneralName(name));
    if (sk_GENERAL_NAME_push(general_names.get(), general.get()) <= 0) {
      return OpensslError("build subjectAltName");
    }
    general.release();  // owned by the stack now
  }
  if (X509_add1_ext_i2d(certificate, NID_subject_alt_name, general_names.get(), 0,
                        X509V3_ADD_DEFAULT) != 1) {
    return OpensslError("add subjectAltName");
  }
  return OkStatus();
}

Result<EvpPkeyPtr> GenerateP256Key() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpensslError("generate a P-256 key");
  return key;
}

Status RequireP256(const EVP_PKEY* key, std::string_view what) {
  if (EVP_PKEY_is_a(key, "EC") != 1) {
    const char* type = EVP_PKEY_get0_type_name(key);
    return MakeError(ErrorCode::kInvalidArgument, std::string(what) + " is of type " +
                                                      (type != nullptr ? type : "unknown") +
                                                      "; only ECDSA P-256 keys are accepted");
  }
  std::array<char, 64> group{};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                     &length) != 1) {
    ERR_clear_error();
    return MakeError(
        ErrorCode::kInvalidArgument,
        std::string(what) + " is an EC key without a named curve; only P-256 keys are accepted");
  }
  int nid = OBJ_txt2nid(group.data());
  if (nid == NID_undef) nid = EC_curve_nist2nid(group.data());
  if (nid != NID_X9_62_prime256v1) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        std::string(what) + " is on curve " + group.data() + "; only P-256 keys are accepted");
  }
  return OkStatus();
}

Result<EvpPkeyPtr> CanonicalP256PublicKey(const EVP_PKEY* key) {
  ATTEST_RETURN_IF_ERROR(RequireP256(key, "the key"));
  Bytes point(1 + 2 * kP256FieldBytes, 0);
  point[0] = 0x04;  // uncompressed
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  const bool read = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
                    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1;
  BignumPtr owned_x(x), owned_y(y);
  if (!read || BN_bn2binpad(x, point.data() + 1, kP256FieldBytes) < 0 ||
      BN_bn2binpad(y, point.data() + 1 + kP256FieldBytes, kP256FieldBytes) < 0) {
    return OpensslError("read the P-256 point", ErrorCode::kInvalidArgument);
  }
  OsslParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OpensslError("P-256 public key");
  }
  OsslParamPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
  EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* rebuilt = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &rebuilt, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpensslError("rebuild the P-256 public key", ErrorCode::kInvalidArgument);
  }
  return EvpPkeyPtr(rebuilt);
}

Result<Bytes> PublicKeyDer(EVP_PKEY* key) {
  const int length = i2d_PUBKEY(key, nullptr);
  if (length <= 0) return OpensslError("encode SubjectPublicKeyInfo");
  Bytes der(static_cast<std::size_t>(length));
  unsigned char* cursor = der.data();
  if (i2d_PUBKEY(key, &cursor) != length) return OpensslError("encode SubjectPublicKeyInfo");
  return der;
}

Result<std::string> CertificatePem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) {
    return OpensslError("encode a certificate as PEM");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Status WritePrivateKey(EVP_PKEY* key, const std::string& path) {
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError("encode the private key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return CreateSecretFile(
      path, ByteView(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(size)));
}

}  // namespace attest::verifier::pki
