// Atomic files and directories: a failed or uncommitted write never replaces the old content.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <vector>

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

// Large buffers are split over threads and joined with crc32_combine: the value must be zlib's
// one serial pass (the reference), with a seed, an odd length and a file offset.
TEST(Fs, Crc32OfLargeBuffersEqualsOneSerialZlibPass) {
  const size_t n = (size_t{100} << 20) + 13;
  std::vector<unsigned char> buf(n);
  uint64_t x = 88172645463325252ull;  // xorshift64
  for (auto& b : buf) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<unsigned char>(x >> 56);
  }
  auto serial = [&](size_t from, uLong seed) {
    uLong crc = seed;
    for (size_t i = from; i < n; i += size_t{1} << 30) {
      crc = ::crc32(crc, buf.data() + i, static_cast<uInt>(std::min(n - i, size_t{1} << 30)));
    }
    return static_cast<uint32_t>(crc);
  };
  EXPECT_EQ(crc32_bytes(buf.data(), n, 0x1234u), serial(0, 0x1234u));
  EXPECT_EQ(crc32_bytes(buf.data(), n), serial(0, 0));
  auto d = scratch("big");
  write_file_atomic(d + "/big", std::string(buf.begin(), buf.end()));
  EXPECT_EQ(crc32_file(d + "/big", 5), serial(5, 0));
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
