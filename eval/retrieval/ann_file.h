// The divrec ANN index file: a fixed 64-byte little-endian header (magic "DVRANNX1", format
// version, kind, I, D, build options, phi, CRC-32 of the item vectors, payload size and CRC-32)
// followed by the faiss::write_index payload. Written atomically (temp + fsync + rename).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eval/retrieval/ann_index.h"

namespace divrec::eval {

constexpr char kAnnMagic[8] = {'D', 'V', 'R', 'A', 'N', 'N', 'X', '1'};
constexpr uint32_t kAnnFormatVersion = 1;

struct AnnFileHeader {
  char magic[8];
  uint32_t version;
  uint32_t kind;  // AnnKind
  int64_t items;  // I
  int64_t dim;    // D
  int32_t hnsw_m;
  int32_t ef_construction;
  int32_t ivf_nlist;
  uint32_t vectors_crc;  // CRC-32 (zlib) of the [I, D] float32 item bytes, row-major
  uint64_t payload_bytes;
  uint32_t payload_crc;  // CRC-32 of the Faiss payload
  float mips_norm;       // HNSW: phi of the inner-product -> L2 reduction (ann_index.h)
};
static_assert(sizeof(AnnFileHeader) == 64, "the ANN file header is 64 bytes");

AnnFileHeader make_ann_header(const AnnBuildOptions& opts, int64_t items, int64_t dim,
                              uint32_t vectors_crc, float mips_norm,
                              const std::vector<uint8_t>& payload);
AnnBuildOptions header_options(const AnnFileHeader& h);
void write_ann_file(const std::string& path, const AnnFileHeader& h,
                    const std::vector<uint8_t>& payload);
// Reads and validates the header and payload CRC; throws naming the file and what was expected
// for a missing file, a short file, a foreign magic, another format version or a corrupt payload.
AnnFileHeader read_ann_file(const std::string& path, std::vector<uint8_t>* payload);

}  // namespace divrec::eval
