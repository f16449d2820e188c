// The check a production key's ceremony transcript must pass before the catalog loads the key
// (docs/ceremony.md "The transcript"; written by scripts/ceremony.mjs verify).
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/artifacts.hpp"

namespace pg::core {

/// The transcript format scripts/ceremony.mjs writes.
inline constexpr std::string_view kTranscriptFormat = "proofgate-ceremony-transcript/1";
/// Largest transcript.json read (a transcript of thousands of contributions is far smaller).
inline constexpr std::size_t kMaxTranscriptBytes = 1 << 20;

/// What is wrong with the transcript of the version `claim_type`/`version` of `source`, whose
/// manifest is `manifest` and whose verification_key.json has SHA-256 `key_sha256` (hex); nullopt
/// when it holds: transcript.json is present, its SHA-256 equals the manifest's
/// ceremony.transcript_sha256 (and sha256["transcript.json"] when listed), it names at least one
/// contribution and a beacon, its contributor count agrees with the manifest's, and its
/// verification_key_sha256 is this key's. The transcript's own chain is checked by anyone who
/// re-runs `scripts/ceremony.mjs verify`; the server checks that the key is the one it describes.
/// Throws ArtifactError when the file cannot be read.
std::optional<std::string> transcript_problem(const ArtifactSource& source,
                                              std::string_view claim_type, std::string_view version,
                                              const boost::json::object& manifest,
                                              std::string_view key_sha256);

}  // namespace pg::core
