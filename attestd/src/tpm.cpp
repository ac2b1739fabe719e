#include "attest/attestd/tpm.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

#include "attest/tpm/algorithms.h"
#include "attest/tpm/response_code.h"

#include "src/tpm_internal.h"

namespace attest::attestd {

std::string HexHandle(std::uint32_t value) {
  std::array<char, 16> text{};
  (void)std::snprintf(text.data(), text.size(), "0x%08x", value);
  return text.data();
}

TpmHandle::TpmHandle(TpmHandle&& other) noexcept
    : context_(other.context_), handle_(other.handle_), release_(other.release_) {
  other.handle_ = ESYS_TR_NONE;
}

TpmHandle& TpmHandle::operator=(TpmHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    context_ = other.context_;
    handle_ = other.handle_;
    release_ = other.release_;
    other.handle_ = ESYS_TR_NONE;
  }
  return *this;
}

TpmHandle::~TpmHandle() { Reset(); }

void TpmHandle::Reset() {
  if (handle_ == ESYS_TR_NONE || context_ == nullptr) return;
  // Nothing useful can be done with a failure here: the object is gone
  // from the TPM's point of view at the latest when the connection closes.
  if (release_ == Release::kFlush) {
    (void)Esys_FlushContext(context_, handle_);
  } else {
    (void)Esys_TR_Close(context_, &handle_);
  }
  handle_ = ESYS_TR_NONE;
}

Tpm::Tpm(std::unique_ptr<Connection> connection) : connection_(std::move(connection)) {}
Tpm::~Tpm() = default;

ESYS_CONTEXT* Tpm::esys() const { return connection_->esys; }

Result<std::unique_ptr<Tpm>> Tpm::Open(const std::string& tcti) {
  auto connection = std::make_unique<Connection>();
  TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti.c_str(), &connection->tcti);
  if (rc != TSS2_RC_SUCCESS) {
    return tpm::TpmError(rc, "open TCTI \"" + tcti +
                                 "\" (is the TPM device present and readable by this user, or the "
                                 "simulator running?)");
  }
  rc = Esys_Initialize(&connection->esys, connection->tcti, nullptr);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "Esys_Initialize on \"" + tcti + "\"");
  return std::unique_ptr<Tpm>(new Tpm(std::move(connection)));
}

Result<std::vector<std::uint16_t>> Tpm::ActivePcrBanks() {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Esys_GetCapability(esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS,
                                  0, 1, &more, &raw);
  EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "TPM2_GetCapability(PCRS)");
  std::vector<std::uint16_t> banks;
  const TPML_PCR_SELECTION& assigned = data->data.assignedPCR;
  for (std::uint32_t i = 0; i < assigned.count && i < TPM2_NUM_PCR_BANKS; ++i) {
    const TPMS_PCR_SELECTION& bank = assigned.pcrSelections[i];
    std::size_t bytes = std::min<std::size_t>(bank.sizeofSelect, sizeof(bank.pcrSelect));
    if (std::any_of(bank.pcrSelect, bank.pcrSelect + bytes, [](auto bits) { return bits != 0; })) {
      banks.push_back(bank.hash);
    }
  }
  return banks;
}

Result<tpm::PcrValues> Tpm::ReadPcrs(const tpm::PcrSelection& selection) {
  ATTEST_ASSIGN_OR_RETURN(TPML_PCR_SELECTION remaining, tpm::ToTpmSelection(selection));
  tpm::PcrValues values;
  // TPM2_PCR_Read returns at most 8 digests per call; ask again for the rest.
  while (true) {
    bool anything_left = false;
    for (std::uint32_t i = 0; i < remaining.count; ++i) {
      for (auto bits : remaining.pcrSelections[i].pcrSelect) anything_left |= bits != 0;
    }
    if (!anything_left) break;
    std::uint32_t update_counter = 0;
    TPML_PCR_SELECTION* raw_read = nullptr;
    TPML_DIGEST* raw_digests = nullptr;
    TSS2_RC rc = Esys_PCR_Read(esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &remaining,
                               &update_counter, &raw_read, &raw_digests);
    EsysPtr<TPML_PCR_SELECTION> read(raw_read);
    EsysPtr<TPML_DIGEST> digests(raw_digests);
    if (rc != TSS2_RC_SUCCESS)
      return tpm::TpmError(rc, "TPM2_PCR_Read(" + selection.ToString() + ")");
    if (digests->count == 0) {
      return MakeError(ErrorCode::kTpm, "TPM2_PCR_Read(" + selection.ToString() +
                                            "): the TPM returned no values; is every bank "
                                            "selected active on this TPM?");
    }
    std::uint32_t next_digest = 0;
    ATTEST_ASSIGN_OR_RETURN(tpm::PcrSelection returned, tpm::FromTpmSelection(*read));
    for (const tpm::PcrBankSelection& bank : returned.banks) {
      for (std::uint32_t index : bank.indexes) {
        if (next_digest >= digests->count) {
          return MakeError(ErrorCode::kTpm, "TPM2_PCR_Read returned fewer digests than PCRs");
        }
        const TPM2B_DIGEST& digest = digests->digests[next_digest++];
        values[bank.hash_algorithm][index] = Bytes(digest.buffer, digest.buffer + digest.size);
        for (std::uint32_t i = 0; i < remaining.count; ++i) {
          if (remaining.pcrSelections[i].hash == bank.hash_algorithm) {
            remaining.pcrSelections[i].pcrSelect[index / 8] &=
                static_cast<std::uint8_t>(~(1u << (index % 8)));
          }
        }
      }
    }
  }
  return values;
}

Status Tpm::ExtendPcr(std::uint32_t index, const std::map<std::uint16_t, Bytes>& digests,
                      const TpmHandle* session) {
  if (index >= tpm::kPcrCount) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "PCR " + std::to_string(index) + " does not exist");
  }
  TPML_DIGEST_VALUES values{};
  for (const auto& [algorithm_id, digest] : digests) {
    auto algorithm = tpm::HashAlgorithmById(algorithm_id);
    if (!algorithm || digest.size() != algorithm->digest_size ||
        values.count >= TPM2_NUM_PCR_BANKS) {
      return MakeError(ErrorCode::kInvalidArgument, "PCR extend: a digest of " +
                                                        std::to_string(digest.size()) +
                                                        " bytes does not fit its bank");
    }
    TPMT_HA& value = values.digests[values.count++];
    value.hashAlg = algorithm_id;
    std::copy(digest.begin(), digest.end(), reinterpret_cast<std::uint8_t*>(&value.digest));
  }
  TpmHandle own_session;
  if (session == nullptr) {
    ATTEST_ASSIGN_OR_RETURN(own_session, StartSaltedSession());
    session = &own_session;
  }
  TSS2_RC rc = Esys_PCR_Extend(esys(), ESYS_TR_PCR0 + index, session->get(), ESYS_TR_NONE,
                               ESYS_TR_NONE, &values);
  if (rc != TSS2_RC_SUCCESS)
    return tpm::TpmError(rc, "TPM2_PCR_Extend(PCR " + std::to_string(index) + ")");
  return OkStatus();
}

Result<bool> Tpm::NvIndexDefined(std::uint32_t index) {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* raw_capability = nullptr;
  TSS2_RC rc = Esys_GetCapability(esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  TPM2_CAP_HANDLES, index, 1, &more, &raw_capability);
  EsysPtr<TPMS_CAPABILITY_DATA> capability(raw_capability);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "TPM2_GetCapability(HANDLES)");
  const TPML_HANDLE& handles = capability->data.handles;
  return handles.count > 0 && handles.handle[0] == index;
}

Result<std::optional<Bytes>> Tpm::ReadNv(std::uint32_t index) {
  ATTEST_ASSIGN_OR_RETURN(std::optional<NvIndex> opened, OpenNvIndex(index));
  if (!opened) return std::optional<Bytes>();
  ATTEST_ASSIGN_OR_RETURN(Bytes contents, ReadNvContents(*opened));
  return std::optional<Bytes>(std::move(contents));
}

Result<std::optional<Tpm::NvIndex>> Tpm::OpenNvIndex(std::uint32_t index) {
  // Ask whether the index exists first: a missing EK certificate is an
  // answer, not an error.
  ATTEST_ASSIGN_OR_RETURN(bool defined, NvIndexDefined(index));
  if (!defined) return std::optional<NvIndex>();
  const std::string name = HexHandle(index);
  ESYS_TR raw_handle = ESYS_TR_NONE;
  TSS2_RC rc =
      Esys_TR_FromTPMPublic(esys(), index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &raw_handle);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "NV index " + name);
  NvIndex opened{index, TpmHandle(esys(), raw_handle, TpmHandle::Release::kClose), {}};
  TPM2B_NV_PUBLIC* raw_public = nullptr;
  rc = Esys_NV_ReadPublic(esys(), opened.handle.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                          &raw_public, nullptr);
  EsysPtr<TPM2B_NV_PUBLIC> nv_public(raw_public);
  if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "TPM2_NV_ReadPublic(" + name + ")");
  opened.nv_public = nv_public->nvPublic;
  return std::optional<NvIndex>(std::move(opened));
}

Result<Bytes> Tpm::ReadNvContents(const NvIndex& opened) {
  const std::string name = HexHandle(opened.index);
  std::uint16_t size = opened.nv_public.dataSize;
  // Read with the index's own (empty) auth where allowed, else as owner.
  ESYS_TR authorization = (opened.nv_public.attributes & TPMA_NV_AUTHREAD) != 0
                              ? opened.handle.get()
                              : ESYS_TR_RH_OWNER;
  Bytes contents;
  contents.reserve(size);
  // 512 bytes per read stays under every TPM's TPM_PT_NV_BUFFER_MAX.
  constexpr std::uint16_t kChunk = 512;
  while (contents.size() < size) {
    auto chunk = static_cast<std::uint16_t>(std::min<std::size_t>(kChunk, size - contents.size()));
    TPM2B_MAX_NV_BUFFER* raw_data = nullptr;
    TSS2_RC rc =
        Esys_NV_Read(esys(), authorization, opened.handle.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                     ESYS_TR_NONE, chunk, static_cast<std::uint16_t>(contents.size()), &raw_data);
    EsysPtr<TPM2B_MAX_NV_BUFFER> data(raw_data);
    if (rc != TSS2_RC_SUCCESS) return tpm::TpmError(rc, "TPM2_NV_Read(" + name + ")");
    if (data->size == 0) break;
    contents.insert(contents.end(), data->buffer, data->buffer + data->size);
  }
  return contents;
}

}  // namespace attest::attestd
