// Content vector precision (see content_dtype.h): parsing, c10 rounding, and the HDF5 16-bit
// float types (fp16 as h5py makes it; bf16 as a user-defined float with fp32's exponent).
#include "data_shards/content_dtype.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <cmath>
#include <utility>

#include "core/check.h"

namespace divrec::data {

namespace {

// The HDF5 type of a 16-bit float: sign bit 15, `mantissa` bits at 0, the exponent between.
h5::Handle half_type(ContentDtype dtype) {
  const bool bf16 = dtype == ContentDtype::kBFloat16;
  const size_t mantissa = bf16 ? 7 : 10, exponent = bf16 ? 8 : 5;
  h5::Handle t(H5Tcopy(H5T_IEEE_F32LE), H5Tclose);
  DIVREC_CHECK(t.valid(), "H5Tcopy failed");
  DIVREC_CHECK(H5Tset_fields(t.id(), 15, mantissa, exponent, 0, mantissa) >= 0 &&
                   H5Tset_size(t.id(), 2) >= 0 && H5Tset_precision(t.id(), 16) >= 0 &&
                   H5Tset_ebias(t.id(), bf16 ? 127 : 15) >= 0,
               "cannot make the HDF5 ", content_dtype_name(dtype), " type");
  return t;
}

uint16_t to_bits(ContentDtype dtype, float v) {
  return dtype == ContentDtype::kFloat16 ? c10::Half(v).x : c10::BFloat16(v).x;
}

float from_bits(ContentDtype dtype, uint16_t bits) {
  return dtype == ContentDtype::kFloat16
             ? static_cast<float>(c10::Half(bits, c10::Half::from_bits()))
             : static_cast<float>(c10::BFloat16(bits, c10::BFloat16::from_bits()));
}

// The pattern of values[k], throwing (naming `what` and k) when it overflows to infinity.
uint16_t checked_bits(ContentDtype dtype, const float* values, size_t k, const std::string& what) {
  const uint16_t b = to_bits(dtype, values[k]);
  DIVREC_CHECK_HINT(std::isfinite(from_bits(dtype, b)) || !std::isfinite(values[k]),
                    "scale the vectors (e.g. L2-normalise them) or use --content-dtype bf16", what,
                    ": value ", values[k], " at flat index ", k, " is out of ",
                    content_dtype_name(dtype), " range (largest finite fp16: 65504)");
  return b;
}

}  // namespace

ContentDtype parse_content_dtype(const std::string& name, const std::string& option) {
  if (name == "fp32" || name == "float32") return ContentDtype::kFloat32;
  if (name == "fp16" || name == "float16") return ContentDtype::kFloat16;
  if (name == "bf16" || name == "bfloat16") return ContentDtype::kBFloat16;
  DIVREC_FAIL(option, ": unknown content dtype '", name, "'; valid: fp32, fp16, bf16");
}

const char* content_dtype_name(ContentDtype dtype) {
  switch (dtype) {
    case ContentDtype::kFloat16:
      return "fp16";
    case ContentDtype::kBFloat16:
      return "bf16";
    default:
      return "fp32";
  }
}

void round_to_content_dtype(ContentDtype dtype, float* values, size_t n, const std::string& what) {
  if (dtype == ContentDtype::kFloat32) return;
  for (size_t k = 0; k < n; ++k) values[k] = from_bits(dtype, checked_bits(dtype, values, k, what));
}

void append_content_bits(ContentDtype dtype, const float* values, size_t n,
                         std::vector<uint16_t>* bits, const std::string& what) {
  DIVREC_CHECK(dtype != ContentDtype::kFloat32, what, ": 16-bit patterns need dtype fp16 or bf16");
  for (size_t k = 0; k < n; ++k) bits->push_back(checked_bits(dtype, values, k, what));
}

void widen_content_bits(ContentDtype dtype, const uint16_t* bits, size_t n, float* out) {
  DIVREC_CHECK(dtype != ContentDtype::kFloat32, "widen_content_bits: dtype fp32 has no patterns");
  for (size_t k = 0; k < n; ++k) out[k] = from_bits(dtype, bits[k]);
}

void write_content_array(const h5::Group& g, const std::string& name,
                         const std::vector<float>& values, const std::vector<hsize_t>& dims,
                         ContentDtype dtype) {
  if (dtype == ContentDtype::kFloat32) {
    g.write_array(name, values.data(), dims);
    return;
  }
  std::vector<uint16_t> bits(values.size());
  for (size_t k = 0; k < values.size(); ++k) bits[k] = to_bits(dtype, values[k]);
  write_content_bits(g, name, bits, dims, dtype);
}

void write_content_bits(const h5::Group& g, const std::string& name,
                        const std::vector<uint16_t>& bits, const std::vector<hsize_t>& dims,
                        ContentDtype dtype) {
  DIVREC_CHECK(dtype != ContentDtype::kFloat32, "write_content_bits: ", g.where(name),
               " is fp32 content; 16-bit patterns need fp16 or bf16");
  hsize_t n = 1;
  for (auto d : dims) n *= d;
  DIVREC_CHECK(bits.size() == n, "write_content_bits: ", g.where(name), " has ", bits.size(),
               " values for a ", n, "-value array");
  const h5::Handle t = half_type(dtype);
  g.write_raw(name, t.id(), sizeof(uint16_t), bits.data(), dims, t.id());
}

std::vector<float> read_content_array(const h5::Group& g, const std::string& name,
                                      std::vector<hsize_t>* dims, ContentDtype* dtype,
                                      std::vector<uint16_t>* bits) {
  const h5::Dataset ds = g.open_dataset(name);
  *dims = ds.dims();
  hsize_t n = 1;
  for (auto d : *dims) n *= d;
  const h5::Handle t(H5Dget_type(ds.id()), H5Tclose);
  DIVREC_CHECK_HINT(t.valid() && H5Tget_class(t.id()) == H5T_FLOAT, "the file is corrupted",
                    ds.where(), " is not a floating-point dataset");
  if (H5Tget_size(t.id()) >= 4) {  // fp32 (or wider: HDF5 converts)
    *dtype = ContentDtype::kFloat32;
    std::vector<float> out(n);
    g.read_raw(ds, H5T_NATIVE_FLOAT, out.data());
    return out;
  }
  size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
  const bool two_bytes = H5Tget_size(t.id()) == 2 &&
                         H5Tget_fields(t.id(), &spos, &epos, &esize, &mpos, &msize) >= 0 &&
                         spos == 15 && mpos == 0;
  if (two_bytes && esize == 5 && msize == 10 && H5Tget_ebias(t.id()) == 15) {
    *dtype = ContentDtype::kFloat16;
  } else if (two_bytes && esize == 8 && msize == 7 && H5Tget_ebias(t.id()) == 127) {
    *dtype = ContentDtype::kBFloat16;
  } else {
    DIVREC_FAIL("the file is corrupted or was not written by divrec: ", ds.where(),
                " has a float type that is none of fp32, fp16 and bf16");
  }
  std::vector<uint16_t> stored(n);
  g.read_raw(ds, half_type(*dtype).id(), stored.data());
  if (bits) {
    *bits = std::move(stored);
    return {};
  }
  std::vector<float> out(n);
  for (size_t k = 0; k < n; ++k) out[k] = from_bits(*dtype, stored[k]);
  return out;
}

}  // namespace divrec::data
