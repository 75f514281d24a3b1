// Whole-file CRC-32 for divrec's HDF5 files that no other file records a checksum of (the
// dataset manifest, serving artifacts): a 512-byte HDF5 user block holding a divrec header, so a
// corrupted file is rejected before libhdf5 parses a byte of it. h5py and HDF5 tools skip it.
#pragma once

#include <cstdint>
#include <string>

namespace divrec::data::h5 {

// User block size (HDF5 needs a power of two >= 512); the header sits at its start:
// "DIVRECH5", payload length (uint64 LE: the bytes after the user block), CRC-32 of those bytes
// (uint32 LE, zlib's), zeros to 512.
inline constexpr uint64_t kSealBytes = 512;
inline constexpr char kSealMagic[] = "DIVRECH5";

struct SealCheck {
  bool present = false;  // the file starts with kSealMagic
  bool ok = false;       // present, and length and CRC match
  std::string problem;   // "" when ok: what does not match, expected vs actual
};

// Reads the header and checksums the payload (one pass over the file).
SealCheck check_seal(const std::string& path);
// Whether the file starts with kSealMagic (check_seal's `present`), reading only its first bytes;
// false when it cannot be opened or is shorter.
bool has_seal_header(const std::string& path);
// Writes the header of a closed file that was created with a kSealBytes user block.
void write_seal(const std::string& path);
// Throws naming the file, expected vs actual, and `hint` when the seal is present but wrong, or
// absent while `required`.
void verify_seal(const std::string& path, bool required, const std::string& hint);

}  // namespace divrec::data::h5
