// Checking an uploaded circuit version (manifest, verification key, wasm, zkey, transcript,
// signature) before it is stored as `uploaded`: the admin API's POST /api/admin/circuits and
// `proofgate admin upload-circuit` both run these checks (docs/circuits.md "Upload").
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/catalog.hpp"
#include "core/outcome.hpp"

namespace pg::core {

/// The files of one version: file name -> bytes.
using UploadFiles = std::map<std::string, std::string, std::less<>>;

struct UploadFileRule {
  std::string_view name;
  bool required;
  std::size_t limit;  // bytes
};
/// The files an upload may carry; any other name is refused.
inline constexpr UploadFileRule kUploadFiles[] = {
    {"manifest.json", true, 64 * 1024},          {"verification_key.json", true, 1024 * 1024},
    {"circuit.wasm", true, 64ull * 1024 * 1024}, {"circuit.zkey", true, 512ull * 1024 * 1024},
    {"transcript.json", false, 1024 * 1024},     {"manifest.sig", false, 4 * 1024},
};

struct CheckedUpload {
  std::string claim_type;
  std::string version;
  std::map<std::string, std::string> sha256;  // every file the manifest lists, as checked
  std::unique_ptr<Circuit> circuit;           // ready for the catalog
};

/// Every check, in order, the first failure answered as INVALID_REQUEST whose field is the file
/// and whose detail is the problem: the file names and sizes; manifest.json's claim_type,
/// version and sha256; every listed digest (the key, the wasm and the zkey must be listed); the
/// catalog's own loading under `policy` (the verifier's key checks, the pinned public signals and
/// issuer, a production key's transcript, with release keys manifest.sig); the zkey's embedded
/// verification key equal to verification_key.json; and for a transcript, the zkey's own record
/// of the ceremony's contributions equal to the transcript's.
Outcome<CheckedUpload> check_upload(const UploadFiles& files, const KeyPolicy& policy);

}  // namespace pg::core
