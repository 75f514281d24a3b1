// Atomic files and directories: a failed or uncommitted write never replaces the old content.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/check.h"
#include "core/fs.h"

namespace fs = std::filesystem;
using namespace divrec::core;

namespace {
std::string scratch(const std::string& name) {
  auto p = fs::temp_directory_path() / ("divrec_test_fs_" + name + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}
}  // namespace

TEST(Fs, WriteAtomicReplaces) {
  auto d = scratch("w");
  write_file_atomic(d + "/a", "one");
  write_file_atomic(d + "/a", "two");
  EXPECT_EQ(read_file(d + "/a"), "two");
  EXPECT_FALSE(path_exists(temp_path_for(d + "/a")));
}

TEST(Fs, Crc32MatchesKnownValue) {
  // zlib.crc32(b"123456789") == 0xCBF43926 (the standard check value).
  EXPECT_EQ(crc32_bytes("123456789", 9), 0xCBF43926u);
  auto d = scratch("c");
  write_file_atomic(d + "/x", "123456789");
  EXPECT_EQ(crc32_file(d + "/x"), 0xCBF43926u);
}

TEST(Fs, AtomicDirUncommittedLeavesOldOutput) {
  auto d = scratch("dir");
  std::string out = d + "/out";
  {
    AtomicDir a(out);
    write_file_atomic(a.file("f"), "good");
    a.commit();
  }
  {
    AtomicDir b(out);
    write_file_atomic(b.file("f"), "partial");
    // destroyed without commit: as if the conversion failed half-way
  }
  EXPECT_EQ(read_file(out + "/f"), "good");
  {
    AtomicDir c(out);
    write_file_atomic(c.file("f"), "new");
    c.commit();
  }
  EXPECT_EQ(read_file(out + "/f"), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 1);
}
