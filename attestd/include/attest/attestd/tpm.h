// attestd's view of its TPM, through tpm2-tss ESAPI: one Tpm per TCTI
// connection, and one method per operation attestd needs. Every transient
// object an operation loads is flushed before it returns (a TPM without a
// resource manager, swtpm among them, has three object slots).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tss2/tss2_esys.h>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/tpm/pcr.h"

namespace attest::attestd {

// The TCTI attestd uses when none is configured: the kernel's resource manager.
inline constexpr std::string_view kDefaultTcti = "device:/dev/tpmrm0";

// Which EK family to use. The TCG EK Credential Profile defines one template
// per (algorithm, NV range); ReadEndorsement picks the one whose
// certificate the TPM holds.
enum class EkAlgorithm { kRsa, kEcc };

// One TCG EK Credential Profile template: its certificate's NV index and
// the template it was issued for.
struct EkProfile {
  std::string name;                 // "L-1 RSA 2048", "H-3 ECC NIST P384", ...
  std::uint32_t certificate_index;  // e.g. 0x01c00002
  bool high_range;                  // H templates: userWithAuth set, policy B
};

struct Endorsement {
  EkProfile profile;
  TPM2B_PUBLIC public_key;               // the EK created from the profile's template
  std::optional<Bytes> certificate_der;  // absent on TPMs without an EK certificate
  // For the caller to log: an EK template or nonce in NV that was ignored
  // (not platform-created, writable by others, or not an EK's template).
  std::vector<std::string> warnings;
};

enum class AkAlgorithm { kEccP256, kRsa2048 };

// A key the TPM created under the storage primary key: its marshaled
// TPM2B_PUBLIC and TPM2B_PRIVATE (the private part is sealed to this TPM).
struct KeyBlob {
  Bytes public_area;
  Bytes private_area;
};

// TPM2_Quote output, in TPM wire form, with the PCR values it covers.
struct Quote {
  Bytes attest;     // marshaled TPMS_ATTEST (the signed bytes)
  Bytes signature;  // marshaled TPMT_SIGNATURE
  tpm::PcrSelection selection;
  tpm::PcrValues pcrs;
  // The boot the quote is of (clockInfo), read from the signed bytes: which
  // runtime cursor of the verifier's still applies (docs/protocol.md §6).
  std::uint32_t reset_count = 0;
  std::uint32_t restart_count = 0;
};

// TPM2_Certify output: the AK's statement that a key lives in this TPM.
struct Certification {
  Bytes attest;     // marshaled TPMS_ATTEST, type TPM_ST_ATTEST_CERTIFY
  Bytes signature;  // marshaled TPMT_SIGNATURE
};

// An ESYS_TR that is flushed (transient objects, sessions) or closed
// (persistent objects, NV indexes) when it goes out of scope.
class TpmHandle {
 public:
  enum class Release { kFlush, kClose };
  TpmHandle() = default;
  TpmHandle(ESYS_CONTEXT* context, ESYS_TR handle, Release release)
      : context_(context), handle_(handle), release_(release) {}
  TpmHandle(TpmHandle&& other) noexcept;
  TpmHandle& operator=(TpmHandle&& other) noexcept;
  TpmHandle(const TpmHandle&) = delete;
  TpmHandle& operator=(const TpmHandle&) = delete;
  ~TpmHandle();

  ESYS_TR get() const { return handle_; }

 private:
  void Reset();
  ESYS_CONTEXT* context_ = nullptr;
  ESYS_TR handle_ = ESYS_TR_NONE;
  Release release_ = Release::kFlush;
};

class Tpm {
 public:
  // `tcti` is "device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=2321",
  // "mssim:..." or any TCTI the tss2-tctildr can load.
  static Result<std::unique_ptr<Tpm>> Open(const std::string& tcti);
  ~Tpm();
  Tpm(const Tpm&) = delete;
  Tpm& operator=(const Tpm&) = delete;

  // PCR banks with at least one PCR allocated (TPM_ALG_IDs).
  Result<std::vector<std::uint16_t>> ActivePcrBanks();
  Result<tpm::PcrValues> ReadPcrs(const tpm::PcrSelection& selection);
  // One digest per bank; banks not given are left alone. Authorized
  // through `session` (from StartSaltedSession), or through a salted
  // session started for this call alone when none is given, so the TPM
  // checks an HMAC over the command and ESYS one over the response.
  Status ExtendPcr(std::uint32_t index, const std::map<std::uint16_t, Bytes>& digests,
                   const TpmHandle* session = nullptr);

  // An HMAC session (SHA-256, AES-128-CFB for parameter encryption)
  // salted to the owner-hierarchy storage primary key, which is flushed as
  // soon as the session has started. Its session key is known only to this
  // process and the TPM, so a bus interposer can neither forge a command
  // authorized through it nor a response to one; provided the primary's
  // public key, as the TPM returned it, is genuine (FORMAT-level limits in
  // README "attestd's TPM layer"). Continues across commands until the
  // handle is released.
  Result<TpmHandle> StartSaltedSession();

  // nullopt when the index is not defined.
  Result<std::optional<Bytes>> ReadNv(std::uint32_t index);

  // Reads the EK certificate of the first profile of `algorithm` whose NV
  // index is defined, creates the EK from that profile's template, and
  // checks that the certificate is for that key. Without a certificate,
  // uses the low-range template. A low-range profile's template and nonce
  // in NV (EK Credential Profile §2.2.1.5) replace the default only when
  // the platform created the index and only it can write it, and the
  // template is a restricted decryption key bound to this TPM (fixedTPM,
  // fixedParent, sensitiveDataOrigin); anything else is ignored with a
  // warning.
  Result<Endorsement> ReadEndorsement(EkAlgorithm algorithm);

  Result<KeyBlob> CreateAttestationKey(AkAlgorithm algorithm);
  // A non-restricted ECC P-256 ECDSA-SHA256 signing key (the node's TLS key).
  Result<KeyBlob> CreateSigningKey();

  // Quotes `selection` with `nonce` as qualifying data, then reads the
  // PCRs; if they moved in between (IMA extends concurrently), quotes again.
  Result<Quote> MakeQuote(const KeyBlob& attestation_key, ByteView nonce,
                          const tpm::PcrSelection& selection);

  // TPM2_ActivateCredential with the EK of `endorsement` (as ReadEndorsement
  // gave it at enrollment): `credential_blob` is a marshaled
  // TPM2B_ID_OBJECT, `encrypted_secret` a marshaled TPM2B_ENCRYPTED_SECRET.
  // Returns the secret; the TPM refuses if the credential was made for
  // another key's name. The EK is created again and must be exactly
  // endorsement.public_key (kVerificationFailed otherwise); the AK is
  // authorized through an HMAC session salted to that EK, with response
  // parameter encryption, so the secret never crosses the bus in the clear
  // and nobody who substituted the EK's public key can read it. The EK
  // itself is authorized by its policy (A, or B for high-range templates),
  // which dictionary-attack lockout does not block.
  Result<Bytes> ActivateCredential(const KeyBlob& attestation_key, const Endorsement& endorsement,
                                   ByteView credential_blob, ByteView encrypted_secret);

  Result<Certification> Certify(const KeyBlob& key, const KeyBlob& attestation_key,
                                ByteView qualifying_data);

  // TPM2_Sign of a SHA-256 digest with a key from CreateSigningKey: the
  // ECDSA signature as DER (ECDSA-Sig-Value), what a CSR or TLS carries.
  Result<Bytes> SignDigest(const KeyBlob& signing_key, ByteView sha256_digest);

 private:
  struct Connection;
  explicit Tpm(std::unique_ptr<Connection> connection);

  ESYS_CONTEXT* esys() const;
  Result<TpmHandle> CreateStoragePrimary();
  // An HMAC session salted to the loaded key `salt_key`; `what` names it in errors.
  Result<TpmHandle> StartSession(ESYS_TR salt_key, const char* what);
  Result<std::vector<TpmHandle>> LoadKeys(const std::vector<const KeyBlob*>& keys);
  Result<KeyBlob> CreateKey(const TPM2B_PUBLIC& key_template, const char* what);
  // Creates the EK of `profile`; notes ignored NV templates in `warnings`
  // when given.
  Result<TpmHandle> CreateEndorsementKey(const EkProfile& profile, TPM2B_PUBLIC* public_key,
                                         std::vector<std::string>* warnings);
  Result<std::optional<TPM2B_PUBLIC>> TemplateFromNv(const EkProfile& profile,
                                                     std::vector<std::string>& warnings);
  // The contents of an index only the platform defined and can write;
  // nullopt (with a warning naming `what`) for any other, or one that
  // cannot be read, and when the index is not defined.
  Result<std::optional<Bytes>> ReadPlatformNv(std::uint32_t index, const std::string& what,
                                              std::vector<std::string>& warnings);
  // A policy session in the EK's nameAlg that satisfies its authPolicy.
  Result<TpmHandle> StartEkPolicySession(const TPMT_PUBLIC& ek);
  Result<bool> NvIndexDefined(std::uint32_t index);
  // An NV index's handle and public area.
  struct NvIndex {
    std::uint32_t index;
    TpmHandle handle;
    TPMS_NV_PUBLIC nv_public;
  };
  // nullopt when the index is not defined.
  Result<std::optional<NvIndex>> OpenNvIndex(std::uint32_t index);
  Result<Bytes> ReadNvContents(const NvIndex& opened);
  // The first profile of `algorithm` whose certificate index is defined
  // (the low-range one if none is); reads the certificate into
  // `certificate` when that is given.
  Result<EkProfile> SelectEkProfile(EkAlgorithm algorithm, std::optional<Bytes>* certificate);
  Result<Quote> QuoteOnce(ESYS_TR attestation_key, ByteView nonce,
                          const tpm::PcrSelection& selection);

  std::unique_ptr<Connection> connection_;
};

// The key as a "TSS2 PRIVATE KEY" PEM (parent: the owner-hierarchy primary
// that the tpm2 OpenSSL provider derives for parent 0x40000001).
Result<std::string> TssPrivateKeyPem(const KeyBlob& key);

}  // namespace attest::attestd
