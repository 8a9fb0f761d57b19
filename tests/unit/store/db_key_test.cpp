#include <sipsite/store/db_key.hpp>

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace sipsite::store {
namespace {

using test::TempDir;

TEST(DbKey, GeneratesDistinctKeys) {
  auto a = DbKey::generate();
  auto b = DbKey::generate();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(*a == *b);
  EXPECT_EQ(a->hex().size(), 64u);
}

TEST(DbKey, HexRoundTrip) {
  auto a = DbKey::generate();
  auto b = DbKey::from_hex(a->hex());
  ASSERT_TRUE(b);
  EXPECT_TRUE(*a == *b);
  EXPECT_TRUE(DbKey::from_hex("  " + a->hex() + "\n"));
}

TEST(DbKey, RejectsMalformedHex) {
  for (const std::string& text :
       {std::string(), std::string(63, 'a'), std::string(65, 'a'), std::string(64, 'g'), std::string(32, 'a')}) {
    auto k = DbKey::from_hex(text);
    ASSERT_FALSE(k) << text;
    EXPECT_EQ(k.error().code, Errc::bad_key_file);
  }
}

TEST(KeyFile, IsCreatedPrivateAndReadBack) {
  TempDir dir;
  auto key = DbKey::generate();
  ASSERT_TRUE(write_key_file(dir / "db.key", *key));
  struct stat st {};
  ASSERT_EQ(::stat((dir / "db.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = read_key_file(dir / "db.key");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(*back == *key);
}

TEST(KeyFile, IsNeverOverwritten) {
  TempDir dir;
  auto first = DbKey::generate();
  ASSERT_TRUE(write_key_file(dir / "db.key", *first));
  auto r = write_key_file(dir / "db.key", *DbKey::generate());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::already_exists);
  EXPECT_TRUE(*read_key_file(dir / "db.key") == *first);
}

TEST(KeyFile, RefusesAGroupOrWorldReadableFile) {
  TempDir dir;
  ASSERT_TRUE(write_key_file(dir / "db.key", *DbKey::generate()));
  ::chmod((dir / "db.key").c_str(), 0644);
  auto r = read_key_file(dir / "db.key");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::bad_key_file);
  EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos) << r.error().message;
}

TEST(KeyFile, ReportsMissingAndMalformedFiles) {
  TempDir dir;
  auto missing = read_key_file(dir / "nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
  test::write_file(dir / "bad.key", "not a key\n");
  ::chmod((dir / "bad.key").c_str(), 0600);
  auto bad = read_key_file(dir / "bad.key");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::bad_key_file);
  // The directory itself is no key file.
  EXPECT_FALSE(read_key_file(dir.path()));
}

}  // namespace
}  // namespace sipsite::store
