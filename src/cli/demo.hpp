// `proofgate serve --demo`: a demo partner, a demo holder, sandbox issuer trees (MOHA, TU,
// NRB/IRD) with the holder's credentials, their roots published; files under <data-dir>/demo/.
#pragma once

#include <filesystem>
#include <string>

#include "core/ports.hpp"
#include "core/secrets.hpp"

namespace pg::cli {

/// Sets up (or reuses) the demo under `data_dir`/demo and returns the text to print: what was
/// written and the three commands that create a request, prove it and verify it.
std::string set_up_demo(core::Store& store, const core::MasterKey& master_key,
                        const std::filesystem::path& data_dir, const std::string& listen,
                        const std::filesystem::path& artifacts_dir);

}  // namespace pg::cli
