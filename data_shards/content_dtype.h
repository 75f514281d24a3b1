// The storage precision of item content vectors (`--content-dtype fp32|fp16|bf16`): fp16 and
// bf16 halve the item table on disk, in the serving artifact and in the model's resident copy
// (ItemFeatures), for catalogs whose foundation-model vectors would not fit otherwise. Rounding
// is c10's (LibTorch) round-to-nearest-even; on disk the values are HDF5 16-bit float types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data_shards/dataset.h"
#include "data_shards/h5.h"

namespace divrec::data {

// "fp32" | "fp16" | "bf16" (also "float32", "float16", "bfloat16"); throws naming `option`.
ContentDtype parse_content_dtype(const std::string& name, const std::string& option);
const char* content_dtype_name(ContentDtype dtype);  // "fp32" | "fp16" | "bf16"

// Rounds `n` values in place to the nearest `dtype` value (ties to even), kept as fp32 (exact:
// both 16-bit formats widen to fp32 without loss). fp32 leaves them as they are. Throws naming
// `what` and the first value that becomes infinite (|x| > 65504 for fp16; bf16 has fp32's range).
void round_to_content_dtype(ContentDtype dtype, float* values, size_t n, const std::string& what);

// Appends the fp16/bf16 patterns of `n` values to *bits, rounded as round_to_content_dtype
// rounds them (the same out-of-range error, naming `what`; the values before it stay appended).
// Grows *bits geometrically (one call per appended row is fine). Throws for dtype fp32.
void append_content_bits(ContentDtype dtype, const float* values, size_t n,
                         std::vector<uint16_t>* bits, const std::string& what);
// out[k] = the fp32 value of the fp16/bf16 pattern bits[k], k < n (exact). Throws for fp32.
void widen_content_bits(ContentDtype dtype, const uint16_t* bits, size_t n, float* out);

// Writes `values` ([dims] row-major, already rounded to dtype) as dataset `name` of g: IEEE
// binary32, IEEE binary16 (h5py reads it as numpy float16) or bfloat16 (sign, 8-bit exponent with
// bias 127, 7-bit mantissa: an HDF5 user-defined float that h5py converts with `astype('f4')`).
void write_content_array(const h5::Group& g, const std::string& name,
                         const std::vector<float>& values, const std::vector<hsize_t>& dims,
                         ContentDtype dtype);

// As write_content_array for fp16/bf16 `bits` (the 16-bit patterns of dtype, ItemTable::
// content_bits), written as they are. Throws for dtype fp32.
void write_content_bits(const h5::Group& g, const std::string& name,
                        const std::vector<uint16_t>& bits, const std::vector<hsize_t>& dims,
                        ContentDtype dtype);

// Reads dataset `name` of g whatever its float type; *dtype = the stored one. fp32 data, and
// fp16/bf16 data when `bits` is null, come back widened to fp32; with `bits`, fp16/bf16 data is
// read into *bits unwidened (2 bytes per value, never an fp32 copy) and the result is empty.
// Throws naming the dataset when its type is none of the three.
std::vector<float> read_content_array(const h5::Group& g, const std::string& name,
                                      std::vector<hsize_t>* dims, ContentDtype* dtype,
                                      std::vector<uint16_t>* bits = nullptr);

}  // namespace divrec::data
