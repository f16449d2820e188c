// The upload's pieces on the development build of age_over_18 (PROOFGATE_ARTIFACTS, the circuits
// fixture): core::check_upload (each refusal names the file), the filesystem installer (staged
// files invisible until commit, a version never replaced, nothing left behind) and the catalog
// growing while it runs (add, reload admitting only versions with a lifecycle row, a refused
// version tried once).
#include "core/circuit_upload.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "artifacts/filesystem_artifacts.hpp"
#include "core/secrets.hpp"

namespace pg::core {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// age_over_18 1.0.0's files (manifest, key, wasm, zkey) with the manifest's version set to `v`.
UploadFiles files_of(const std::string& v) {
  const char* root = std::getenv("PROOFGATE_ARTIFACTS");
  EXPECT_NE(root, nullptr) << "set PROOFGATE_ARTIFACTS";
  const fs::path dir = fs::path(root ? root : ".") / "age_over_18" / "1.0.0";
  UploadFiles f;
  for (const char* name :
       {"manifest.json", "verification_key.json", "circuit.wasm", "circuit.zkey"})
    f[name] = slurp(dir / name);
  const std::string from = "\"version\": \"1.0.0\"";
  const auto at = f["manifest.json"].find(from);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos)
    f["manifest.json"].replace(at, from.size(), "\"version\": \"" + v + "\"");
  return f;
}

const KeyPolicy kDevelopment{.allow_development_keys = true};

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("pg-upload-test-" + uuid_v4());
  ~TempDir() { fs::remove_all(path); }
};

TEST(CheckUpload, accepts_a_complete_version_and_names_the_file_of_each_refusal) {
  auto ok = check_upload(files_of("1.2.3"), kDevelopment);
  ASSERT_TRUE(ok.ok()) << ok.error().field << ": " << ok.error().detail;
  EXPECT_EQ(ok->claim_type, "age_over_18");
  EXPECT_EQ(ok->version, "1.2.3");
  EXPECT_EQ(ok->sha256.size(), 3u);
  ASSERT_NE(ok->circuit, nullptr);
  EXPECT_TRUE(ok->circuit->development);

  const auto refused = [](UploadFiles f, const KeyPolicy& policy = kDevelopment) {
    auto r = check_upload(f, policy);
    EXPECT_FALSE(r.ok());
    return r.ok() ? ApiError{} : r.error();
  };
  auto f = files_of("1.2.3");
  f["circuit.wasm"] += "x";
  auto e = refused(f);
  EXPECT_EQ(e.field, "circuit.wasm");
  EXPECT_NE(e.detail.find("differs from the manifest's"), std::string::npos) << e.detail;

  f = files_of("1.2.3");
  f.erase("circuit.zkey");
  EXPECT_EQ(refused(f).field, "circuit.zkey");

  f = files_of("1.2.3");
  f["../manifest.json"] = "{}";
  EXPECT_EQ(refused(f).field, "../manifest.json");

  f = files_of("1.2.3");
  f["manifest.json"] = "[1]";
  EXPECT_EQ(refused(f).field, "manifest.json");

  // Each file's size limit, before anything is parsed.
  f = files_of("1.2.3");
  f["manifest.json"] += std::string(64 * 1024, ' ');
  e = refused(f);
  EXPECT_EQ(e.field, "manifest.json");
  EXPECT_NE(e.detail.find("larger than 65536 bytes"), std::string::npos) << e.detail;

  // A zkey of another claim (its digest listed, so only the embedded key can tell).
  f = files_of("1.2.3");
  {
    const char* root = std::getenv("PROOFGATE_ARTIFACTS");
    f["circuit.zkey"] = slurp(fs::path(root ? root : ".") / "education" / "1.0.0" / "circuit.zkey");
    const std::string old_digest = hex(sha256(files_of("1.2.3").at("circuit.zkey")));
    const auto at = f["manifest.json"].find(old_digest);
    ASSERT_NE(at, std::string::npos);
    f["manifest.json"].replace(at, old_digest.size(), hex(sha256(f["circuit.zkey"])));
  }
  e = refused(f);
  EXPECT_EQ(e.field, "circuit.zkey");
  EXPECT_NE(e.detail.find("does not match verification_key.json"), std::string::npos) << e.detail;

  // The policy of a production server: a development key is refused by name.
  e = refused(files_of("1.2.3"), KeyPolicy{});
  EXPECT_EQ(e.field, "verification_key.json");
  EXPECT_NE(e.detail.find("refused: "), std::string::npos) << e.detail;
  EXPECT_NE(e.detail.find("development"), std::string::npos) << e.detail;
}

TEST(FilesystemInstaller, staged_files_appear_only_on_commit_and_never_replace_a_version) {
  TempDir dir;
  artifacts::FilesystemArtifacts store(dir.path);
  const UploadFiles files = files_of("1.2.3");
  {
    auto staged = store.stage("age_over_18", "1.2.3", files);
    EXPECT_TRUE(store.versions().empty());  // .upload-<uuid> is not a claim type
    EXPECT_FALSE(store.has_version("age_over_18", "1.2.3"));
    staged->commit();
  }
  EXPECT_TRUE(store.has_version("age_over_18", "1.2.3"));
  ASSERT_EQ(store.versions().size(), 1u);
  EXPECT_EQ(store.read("age_over_18", "1.2.3", "circuit.zkey", 1 << 30), files.at("circuit.zkey"));
  {
    UploadFiles other = files;
    other["manifest.json"] += " ";
    auto second = store.stage("age_over_18", "1.2.3", other);
    try {
      second->commit();
      FAIL() << "replaced a version";
    } catch (const ArtifactError& e) {
      EXPECT_NE(std::string(e.what()).find("exists already"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(store.read("age_over_18", "1.2.3", "manifest.json", 1 << 20),
            files.at("manifest.json"));
  { auto dropped = store.stage("age_over_18", "1.2.4", files); }  // never committed
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir.path)) left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"age_over_18"});
  EXPECT_THROW(store.stage("../x", "1.0.0", files), ArtifactError);
}

TEST(CatalogGrowth, reload_loads_admitted_versions_once_and_tries_a_refused_one_once) {
  TempDir dir;
  artifacts::FilesystemArtifacts store(dir.path);
  CircuitCatalog catalog = CircuitCatalog::load(store, kDevelopment);
  EXPECT_TRUE(catalog.empty());
  store.stage("age_over_18", "1.2.3", files_of("1.2.3"))->commit();
  auto broken = files_of("1.2.4");
  broken["verification_key.json"] = "{}";  // its digest no longer matches
  store.stage("age_over_18", "1.2.4", broken)->commit();

  int asked = 0;
  auto r = catalog.reload(store, kDevelopment, [&](std::string_view, std::string_view) {
    ++asked;
    return false;
  });
  EXPECT_EQ(asked, 2);
  EXPECT_TRUE(r.added.empty());
  EXPECT_TRUE(catalog.empty());

  r = catalog.reload(store, kDevelopment, [](std::string_view, std::string_view) { return true; });
  ASSERT_EQ(r.added.size(), 1u);
  EXPECT_EQ(r.added[0]->version, "1.2.3");
  ASSERT_EQ(r.refused.size(), 1u);
  EXPECT_EQ(r.refused[0].first, "age_over_18 1.2.4");
  EXPECT_EQ(catalog.find("age_over_18", "1.2.3"), r.added[0]);

  asked = 0;
  r = catalog.reload(store, kDevelopment, [&](std::string_view, std::string_view) {
    ++asked;
    return true;
  });
  EXPECT_EQ(asked, 0);  // loaded, or refused once already
  EXPECT_TRUE(r.added.empty());
  EXPECT_TRUE(r.refused.empty());

  // add() keeps the first of a claim type and version.
  auto again = check_upload(files_of("1.2.3"), kDevelopment);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(catalog.add(std::move(again->circuit)), catalog.find("age_over_18", "1.2.3"));
  EXPECT_EQ(catalog.all().size(), 1u);
}

TEST(CatalogGrowth, readers_see_a_consistent_catalog_while_versions_are_added) {
  CircuitCatalog catalog;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      for (const Circuit* c : catalog.versions("age_over_18")) ASSERT_FALSE(c->version.empty());
      (void)catalog.find("age_over_18", "1.0.7");
    }
  });
  for (const char* v : {"1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.0.5", "1.0.6", "1.0.7"}) {
    auto c = check_upload(files_of(v), kDevelopment);
    ASSERT_TRUE(c.ok());
    catalog.add(std::move(c->circuit));
  }
  done = true;
  reader.join();
  const auto versions = catalog.versions("age_over_18");
  ASSERT_EQ(versions.size(), 7u);
  EXPECT_EQ(versions.front()->version, "1.0.7");  // newest first
}

}  // namespace
}  // namespace pg::core
