// The divrec header in an HDF5 user block (see h5_seal.h): written after the file is closed,
// verified before H5Fopen.
#include "data_shards/h5_seal.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/check.h"
#include "core/fs.h"

namespace divrec::data::h5 {

namespace {

constexpr size_t kMagicBytes = sizeof(kSealMagic) - 1;
constexpr size_t kHeaderBytes = kMagicBytes + 8 + 4;

uint64_t get_le(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The first `got` bytes read of a file start with kSealMagic.
bool starts_with_magic(const unsigned char* bytes, std::streamsize got) {
  return got >= static_cast<std::streamsize>(kMagicBytes) &&
         std::memcmp(bytes, kSealMagic, kMagicBytes) == 0;
}

void put_le(unsigned char* p, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) p[i] = static_cast<unsigned char>((v >> (8 * i)) & 0xff);
}

}  // namespace

SealCheck check_seal(const std::string& path) {
  SealCheck c;
  std::ifstream in(path, std::ios::binary);
  DIVREC_CHECK(in.good(), "cannot open '", path, "': ", std::strerror(errno));
  std::array<unsigned char, kHeaderBytes> h{};
  in.read(reinterpret_cast<char*>(h.data()), static_cast<std::streamsize>(h.size()));
  if (in.gcount() != static_cast<std::streamsize>(h.size()) ||
      !starts_with_magic(h.data(), in.gcount())) {
    c.problem = "no divrec checksum header (first bytes are not " + std::string(kSealMagic) + ")";
    return c;
  }
  c.present = true;
  const uint64_t want_len = get_le(h.data() + kMagicBytes, 8);
  const auto want_crc = static_cast<uint32_t>(get_le(h.data() + kMagicBytes + 8, 4));
  const uint64_t size = std::filesystem::file_size(path);
  const uint64_t got_len = size < kSealBytes ? 0 : size - kSealBytes;
  if (got_len != want_len) {
    c.problem = fmt::format(
        "length mismatch: header records {} bytes after the header, the file "
        "has {} (truncated or appended to)",
        want_len, got_len);
    return c;
  }
  const uint32_t got_crc = core::crc32_file(path, kSealBytes);
  if (got_crc != want_crc) {
    c.problem = fmt::format("CRC-32 mismatch: header {:08x}, contents {:08x} (corrupted bytes)",
                            want_crc, got_crc);
    return c;
  }
  c.ok = true;
  return c;
}

void write_seal(const std::string& path) {
  const uint64_t size = std::filesystem::file_size(path);
  DIVREC_CHECK(size >= kSealBytes, "internal: '", path, "' has no ", kSealBytes,
               "-byte user block to seal");
  std::array<unsigned char, kHeaderBytes> h{};
  std::memcpy(h.data(), kSealMagic, kMagicBytes);
  put_le(h.data() + kMagicBytes, size - kSealBytes, 8);
  put_le(h.data() + kMagicBytes + 8, core::crc32_file(path, kSealBytes), 4);
  std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out);
  DIVREC_CHECK(out.good(), "cannot open '", path,
               "' to write its checksum: ", std::strerror(errno));
  out.write(reinterpret_cast<const char*>(h.data()), static_cast<std::streamsize>(h.size()));
  out.flush();
  DIVREC_CHECK(out.good(), "writing the checksum header of '", path, "' failed (disk full?)");
}

bool has_seal_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<unsigned char, kMagicBytes> magic{};
  in.read(reinterpret_cast<char*>(magic.data()), static_cast<std::streamsize>(magic.size()));
  return starts_with_magic(magic.data(), in.gcount());
}

void verify_seal(const std::string& path, bool required, const std::string& hint) {
  SealCheck c = check_seal(path);
  if (c.ok || (!c.present && !required)) return;
  DIVREC_CHECK_HINT(c.present,
                    "pass the file divrec wrote (a manifest.h5 or a serving artifact); "
                    "files written before whole-file checksums must be written again",
                    "'", path, "' is not a checksummed divrec file: ", c.problem);
  DIVREC_CHECK_HINT(false, hint, "'", path,
                    "' failed its checksum before HDF5 read it: ", c.problem);
}

}  // namespace divrec::data::h5
