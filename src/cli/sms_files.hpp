// The sandbox's SMS delivery for citizens' sign-in codes: each message written to
// <dir>/<E.164>.code (mode 0600, replaced atomically), as the sandbox authority does for issuers.
// Production plugs an SMS gateway behind core::CodeSender instead.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/citizens.hpp"

namespace pg::cli {

class SmsFiles final : public core::CodeSender {
 public:
  /// Creates `dir` (0700) when missing; throws std::runtime_error when it cannot.
  explicit SmsFiles(std::filesystem::path dir);
  void send(std::string_view phone, std::string_view text) override;

 private:
  std::filesystem::path dir_;
};

}  // namespace pg::cli
