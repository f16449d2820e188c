// Uploading a circuit version from a folder (upload_circuit.cpp).
#pragma once

#include <boost/json.hpp>
#include <string>

#include "core/catalog.hpp"
#include "core/lifecycle.hpp"

namespace pg::cli {

struct UploadRequest {
  std::string dir;            // the version's files
  std::string artifacts_dir;  // where the server loads versions from
  core::KeyPolicy policy;     // as the server's: development keys, release keys
};

/// Checks and stores the version, records it `uploaded`; returns what the CLI prints. Throws
/// std::runtime_error "<file>: <problem>" on the first refusal (nothing stored then).
boost::json::object upload_circuit(const UploadRequest& upload, core::LifecycleService& lifecycle,
                                   const core::Actor& actor);

}  // namespace pg::cli
