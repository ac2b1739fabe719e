#include "attest/signer/public_key.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>
#include <vector>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/json.h"
#include "attest/json_fields.h"

namespace attest::signer {
namespace {

constexpr std::string_view kPemBegin = "-----BEGIN PUBLIC KEY-----";
constexpr std::string_view kPemEnd = "-----END PUBLIC KEY-----";
constexpr std::size_t kMaxPublicKeyFileBytes = std::size_t{16} * 1024;

Error Corrupt(std::string_view name, std::string_view what) {
  return MakeError(ErrorCode::kCorrupt, std::string(name) + ": " + std::string(what));
}

Result<PublicKeyInfo> FromSpki(ByteView der, std::string_view name) {
  Ed25519PublicKey key{};
  if (der.size() != 44) return Corrupt(name, "not an Ed25519 SubjectPublicKeyInfo (RFC 8410)");
  std::copy(der.begin() + 12, der.end(), key.begin());
  Bytes expected = Ed25519SubjectPublicKeyInfo(key);
  if (!std::equal(der.begin(), der.end(), expected.begin(), expected.end())) {
    return Corrupt(name, "not an Ed25519 SubjectPublicKeyInfo (RFC 8410)");
  }
  return MakePublicKeyInfo(key);
}

Result<PublicKeyInfo> ParsePem(std::string_view text, std::string_view name) {
  std::size_t end = text.find(kPemEnd, kPemBegin.size());
  if (end == std::string_view::npos)
    return Corrupt(name, "PEM lacks \"" + std::string(kPemEnd) + "\"");
  std::string base64;
  for (char c : text.substr(kPemBegin.size(), end - kPemBegin.size())) {
    if (c != '\n' && c != '\r') base64.push_back(c);
  }
  std::string_view rest = text.substr(end + kPemEnd.size());
  if (rest.find_first_not_of("\r\n") != std::string_view::npos) {
    return Corrupt(name, "text after the PEM block");
  }
  auto der = Base64Decode(base64);
  if (!der.ok()) return Corrupt(name, "PEM body: " + der.error().message);
  return FromSpki(*der, name);
}

Result<PublicKeyInfo> ParseJson(std::string_view text, std::string_view name) {
  auto document = ParseJsonStrict(text);
  if (!document.ok()) return Corrupt(name, document.error().message);
  JsonFields fields(name, ErrorCode::kCorrupt);
  ATTEST_RETURN_IF_ERROR(fields.RequireObject(*document, ""));
  ATTEST_RETURN_IF_ERROR(
      fields.OnlyMembers(*document, "", {"version", "algorithm", "key_id", "public_key"}));
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t version, fields.Unsigned(*document, "version", "version"));
  if (version != 1) return fields.Invalid("version", "unsupported version (this build reads 1)");
  ATTEST_ASSIGN_OR_RETURN(std::string algorithm,
                          fields.String(*document, "algorithm", "algorithm"));
  if (algorithm != "ed25519") return fields.Invalid("algorithm", "must be \"ed25519\"");
  ATTEST_ASSIGN_OR_RETURN(Bytes raw, fields.Base64(*document, "public_key", "public_key"));
  auto key = Ed25519PublicKeyFromBytes(raw);
  if (!key.ok()) return fields.Invalid("public_key", key.error().message);
  ATTEST_ASSIGN_OR_RETURN(std::string key_id, fields.String(*document, "key_id", "key_id"));
  PublicKeyInfo info = MakePublicKeyInfo(*key);
  if (key_id != info.key_id) {
    return fields.Invalid("key_id", "is not the key id of public_key (" + info.key_id + ")");
  }
  return info;
}

bool IsKeyFileName(const std::filesystem::path& path) {
  return path.extension() == ".pub" || path.extension() == ".pem";
}

}  // namespace

PublicKeyInfo MakePublicKeyInfo(const Ed25519PublicKey& key) { return {key, KeyIdOf(key)}; }

std::string EncodePublicKeyJson(const Ed25519PublicKey& key) {
  Json document = {{"version", 1},
                   {"algorithm", "ed25519"},
                   {"key_id", KeyIdOf(key)},
                   {"public_key", Base64Encode(key)}};
  // Only ASCII strings and a small integer: canonicalization cannot fail.
  return CanonicalJson(document).value() + "\n";
}

std::string EncodePublicKeyPem(const Ed25519PublicKey& key) {
  std::string base64 = Base64Encode(Ed25519SubjectPublicKeyInfo(key));
  std::string pem = std::string(kPemBegin) + "\n";
  for (std::size_t i = 0; i < base64.size(); i += 64) pem += base64.substr(i, 64) + "\n";
  return pem + std::string(kPemEnd) + "\n";
}

Result<PublicKeyInfo> ParsePublicKey(std::string_view text, std::string_view name) {
  if (text.starts_with(kPemBegin)) return ParsePem(text, name);
  return ParseJson(text, name);
}

Result<PublicKeyInfo> LoadPublicKey(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxPublicKeyFileBytes));
  return ParsePublicKey(text, path);
}

Result<TrustedKeys> LoadTrustedKeys(const std::string& file_or_directory) {
  namespace fs = std::filesystem;
  std::error_code error;
  TrustedKeys trusted;
  if (!fs::is_directory(file_or_directory, error)) {
    ATTEST_ASSIGN_OR_RETURN(PublicKeyInfo info, LoadPublicKey(file_or_directory));
    trusted.Add(info);
    return trusted;
  }
  std::vector<std::string> paths;
  for (fs::directory_iterator it(file_or_directory, error), end; !error && it != end;
       it.increment(error)) {
    if (IsKeyFileName(it->path()) && it->is_regular_file(error)) paths.push_back(it->path());
  }
  if (error) {
    return MakeError(ErrorCode::kIo,
                     file_or_directory + ": cannot list trusted keys: " + error.message());
  }
  std::sort(paths.begin(), paths.end());
  // Trust does not depend on ids, but two keys shown under one id would
  // make every message about them ambiguous.
  std::map<std::string, Ed25519PublicKey> by_id;
  for (const std::string& path : paths) {
    ATTEST_ASSIGN_OR_RETURN(PublicKeyInfo info, LoadPublicKey(path));
    auto [known, added] = by_id.emplace(info.key_id, info.key);
    if (!added && known->second != info.key) {
      return MakeError(ErrorCode::kCorrupt, path + ": another trusted key has key id " +
                                                info.key_id + "; remove one of them");
    }
    trusted.Add(info);
  }
  if (trusted.size() == 0) {
    return MakeError(ErrorCode::kNotFound,
                     file_or_directory + ": no *.pub or *.pem keys in this directory");
  }
  return trusted;
}

}  // namespace attest::signer
