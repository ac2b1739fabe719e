// TPM public areas (TPMT_PUBLIC) as the rest of the system sees them: their
// wire form, their TPM name, the OpenSSL key they hold, and the node id an
// EK gives a host (docs/protocol.md §2).
#pragma once

#include <string>

#include <tss2/tss2_tpm2_types.h>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/openssl.h"

namespace attest::tpm {

// A marshaled TPM2B_PUBLIC (what `tpm2_createak -u` writes), strictly:
// truncated, trailing or size-mismatched input is kCorrupt.
Result<TPM2B_PUBLIC> ParsePublic(ByteView marshaled);
Bytes MarshalPublic(const TPM2B_PUBLIC& public_key);
Bytes MarshalPublicArea(const TPMT_PUBLIC& public_area);

// nameAlg (2 bytes, big-endian) || H_nameAlg(marshaled TPMT_PUBLIC): what the
// TPM binds credentials and certifications to.
Result<Bytes> ObjectName(const TPMT_PUBLIC& public_area);

// The RSA or ECC (P-256, P-384, P-521) public key. Keyed-hash and symmetric
// objects have none and give kUnsupported.
Result<EvpPkeyPtr> PublicKeyFromTpm(const TPMT_PUBLIC& public_area);

// A host's node id (docs/protocol.md §2): lowercase hex SHA-256 of the DER
// SubjectPublicKeyInfo (i2d_PUBKEY) of the EK's public key alone, so
// nothing else in the TPMT_PUBLIC (exponent 0 vs 65537, authPolicy,
// attributes, nameAlg, symmetric parameters) gives the same TPM a second
// id. Stable for the life of the TPM, whatever the host is called; from an
// EK certificate, `openssl x509 -in ek.pem -pubkey -noout | openssl pkey
// -pubin -outform DER | sha256sum` prints the same. Errors as
// PublicKeyFromTpm.
Result<std::string> NodeId(const TPMT_PUBLIC& endorsement_key);
// The same for a key from elsewhere (an EK certificate's), re-encoded
// canonically first: RSA as (n, e) under rsaEncryption, EC as a named curve
// and an uncompressed point, whatever form the key was decoded from.
// kUnsupported for other key types and unnamed curves.
Result<std::string> NodeIdOfPublicKey(const EVP_PKEY* key);

}  // namespace attest::tpm
