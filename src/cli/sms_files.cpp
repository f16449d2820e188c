// The sandbox's SMS files (see sms_files.hpp).
#include "cli/sms_files.hpp"

#include <stdexcept>
#include <string>

#include "authority/records.hpp"

namespace pg::cli {

SmsFiles::SmsFiles(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (!ec) {
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  if (ec) throw std::runtime_error("account_sms_dir " + dir_.string() + ": " + ec.message());
}

void SmsFiles::send(std::string_view phone, std::string_view text) {
  // The number is E.164 (CitizenService checked it): '+' and digits, a safe file name.
  const std::string problem = authority::write_file_atomically(
      dir_ / (std::string(phone) + ".code"), std::string(text) + "\n");
  // The problem names the file, whose name is the number: only its cause goes into the error.
  if (!problem.empty()) {
    const auto cause = problem.rfind(": ");
    throw std::runtime_error("cannot write a sign-in code's SMS file in account_sms_dir" +
                             (cause == std::string::npos ? std::string() : problem.substr(cause)));
  }
}

}  // namespace pg::cli
