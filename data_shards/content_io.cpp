// Content vector files -> ContentRows (see content_io.h). The .npy header is parsed here (the
// format is a fixed magic, a length and a Python dict literal; numpy documents it as stable);
// HDF5 goes through the h5 wrappers; text rows are parsed strictly (a whole field must be a float).
#include "data_shards/content_io.h"

#include <c10/util/Half.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "core/check.h"
#include "data_shards/convert/text.h"
#include "data_shards/h5.h"

namespace divrec::data {

namespace {

constexpr const char* kNpyHint =
    "save with numpy.save(path, numpy.ascontiguousarray(x, 'float32'))";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The value text of `'key': VALUE` in the npy header dict ("" when absent).
std::string npy_field(const std::string& header, const std::string& key) {
  auto k = header.find("'" + key + "'");
  if (k == std::string::npos) return "";
  auto colon = header.find(':', k);
  if (colon == std::string::npos) return "";
  auto b = header.find_first_not_of(' ', colon + 1);
  if (b == std::string::npos) return "";
  auto e = header[b] == '(' ? header.find(')', b) + 1 : header.find_first_of(",}", b);
  return header.substr(b, e - b);
}

std::vector<int64_t> npy_shape(const std::string& path, const std::string& text) {
  DIVREC_CHECK_HINT(text.size() >= 2 && text.front() == '(' && text.back() == ')', kNpyHint, "'",
                    path, "': cannot parse the .npy shape '", text, "'");
  std::vector<int64_t> shape;
  const char* p = text.c_str() + 1;
  while (*p && *p != ')') {
    while (*p == ' ' || *p == ',') ++p;
    if (*p == ')') break;
    char* end = nullptr;
    long long v = std::strtoll(p, &end, 10);
    DIVREC_CHECK_HINT(end != p && v >= 0, kNpyHint, "'", path, "': bad .npy shape '", text, "'");
    shape.push_back(v);
    p = end;
  }
  return shape;
}

void check_finite(const ContentRows& rows, size_t row, const float* v) {
  for (int64_t j = 0; j < rows.dim; ++j) {
    DIVREC_CHECK_HINT(std::isfinite(v[j]), "remove or fix the item's vector", rows.where[row],
                      ": item '", rows.ids[row], "' has a non-finite value (", v[j], ") in column ",
                      j, "; content vectors must be finite");
  }
}

ContentRows read_npy_rows(const ContentSource& s) {
  DIVREC_CHECK_HINT(!s.ids.empty(), "pass --ids FILE: one raw item id per line, in row order", "'",
                    s.vectors, "' is .npy, which holds no item ids");
  NpyArray a = read_npy(s.vectors);
  ContentRows rows;
  rows.dim = a.shape[1];
  rows.values = std::move(a.values);
  std::ifstream in(s.ids);
  DIVREC_CHECK_HINT(in.good(), "pass --ids FILE", "cannot open id file '", s.ids, "'");
  int64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    DIVREC_CHECK_HINT(!line.empty(), "one raw item id per line, no blank lines", s.ids, ":",
                      line_no, ": empty item id");
    rows.ids.push_back(line);
    rows.where.push_back(s.vectors + " row " + std::to_string(line_no - 1) + " (id from " + s.ids +
                         ":" + std::to_string(line_no) + ")");
  }
  DIVREC_CHECK_HINT(static_cast<int64_t>(rows.ids.size()) == a.shape[0],
                    "the id file must list one id per row of the array, in row order", "'", s.ids,
                    "' has ", rows.ids.size(), " ids but '", s.vectors, "' has ", a.shape[0],
                    " rows");
  return rows;
}

ContentRows read_hdf5_rows(const ContentSource& s) {
  auto f = h5::File::open(s.vectors);
  const std::string hint = "name the datasets with --h5-ids NAME --h5-vectors NAME";
  DIVREC_CHECK_HINT(f.has(s.h5_ids), hint, f.where(s.h5_ids), ": no such dataset (item ids)");
  DIVREC_CHECK_HINT(f.has(s.h5_vectors), hint, f.where(s.h5_vectors),
                    ": no such dataset (vectors)");
  ContentRows rows;
  {
    auto l = h5::lock();
    h5::Dataset ds = f.open_dataset(s.h5_ids);
    h5::Handle type(H5Dget_type(ds.id()), H5Tclose);
    if (H5Tget_class(type.id()) == H5T_INTEGER) {
      for (int64_t id : h5::read_vector<int64_t>(f, s.h5_ids))
        rows.ids.push_back(std::to_string(id));
    } else {
      rows.ids = f.read_strings(s.h5_ids);
    }
  }
  std::vector<hsize_t> dims;
  rows.values = f.read_array<float>(s.h5_vectors, &dims);
  DIVREC_CHECK_HINT(dims.size() == 2, "store the vectors as a 2-D [items, dim] float dataset",
                    f.where(s.h5_vectors), " has ", dims.size(), " dimensions, expected 2");
  DIVREC_CHECK_HINT(dims[0] == rows.ids.size(), "one id per vector row, in row order",
                    f.where(s.h5_ids), " has ", rows.ids.size(), " ids but ", f.where(s.h5_vectors),
                    " has ", dims[0], " rows");
  rows.dim = static_cast<int64_t>(dims[1]);
  for (size_t k = 0; k < rows.ids.size(); ++k) {
    DIVREC_CHECK_HINT(!rows.ids[k].empty(), "every row needs an item id", f.where(s.h5_ids),
                      " row ", k, ": empty item id");
    rows.where.push_back(f.where(s.h5_vectors) + " row " + std::to_string(k));
  }
  return rows;
}

ContentRows read_text_rows(const ContentSource& s, char delim) {
  LineReader in(s.vectors, "reading content vectors");
  ContentRows rows;
  std::vector<std::string> fields;
  std::string_view line;
  const std::string expect = "expected: raw item id, then the vector's values";
  while (in.next(&line)) {
    if (in.line_no() == 1 && s.header) continue;
    if (trim(line).empty()) continue;
    split_csv(line, delim, &fields);
    if (fields.size() < 2 || fields[0].empty()) in.fail(expect, line);
    const auto dim = static_cast<int64_t>(fields.size()) - 1;
    if (rows.ids.empty()) rows.dim = dim;
    if (dim != rows.dim) {
      in.fail("item '" + fields[0] + "' has " + std::to_string(dim) + " values, expected " +
                  std::to_string(rows.dim) + " (as on the first row)",
              line);
    }
    for (int64_t j = 0; j < dim; ++j) {
      double v = 0;
      if (!parse_double(trim(fields[static_cast<size_t>(j) + 1]), &v)) {
        in.fail("value " + std::to_string(j) + " of item '" + fields[0] + "' is not a number",
                line);
      }
      rows.values.push_back(static_cast<float>(v));
    }
    rows.ids.push_back(fields[0]);
    rows.where.push_back(s.vectors + ":" + std::to_string(in.line_no()));
  }
  return rows;
}

}  // namespace

std::string content_format_of(const ContentSource& s) {
  std::string f = s.format;
  if (f.empty()) {
    if (ends_with(s.vectors, ".npy"))
      f = "npy";
    else if (ends_with(s.vectors, ".h5") || ends_with(s.vectors, ".hdf5"))
      f = "hdf5";
    else if (ends_with(s.vectors, ".csv"))
      f = "csv";
    else if (ends_with(s.vectors, ".tsv") || ends_with(s.vectors, ".txt"))
      f = "tsv";
  }
  DIVREC_CHECK_HINT(f == "npy" || f == "hdf5" || f == "csv" || f == "tsv",
                    "pass --vectors-format npy|hdf5|csv|tsv", "cannot tell the format of '",
                    s.vectors, "'", f.empty() ? "" : " (got '" + f + "')");
  return f;
}

ContentRows read_content_rows(const ContentSource& s) {
  const std::string f = content_format_of(s);
  DIVREC_CHECK_HINT(f == "npy" || s.ids.empty(), "--ids is only for .npy vectors",
                    "--ids given for a ", f, " file");
  ContentRows rows;
  if (f == "npy")
    rows = read_npy_rows(s);
  else if (f == "hdf5")
    rows = read_hdf5_rows(s);
  else
    rows = read_text_rows(s, s.delimiter ? s.delimiter : (f == "csv" ? ',' : '\t'));
  DIVREC_CHECK_HINT(!rows.ids.empty() && rows.dim > 0, "check --vectors", "'", s.vectors,
                    "' holds no vectors (", rows.ids.size(), " rows of dimension ", rows.dim, ")");
  for (size_t k = 0; k < rows.ids.size(); ++k) {
    check_finite(rows, k, rows.values.data() + k * static_cast<size_t>(rows.dim));
  }
  return rows;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DIVREC_CHECK_HINT(in.good(), "check --vectors", "cannot open '", path, "'");
  char magic[8] = {};
  in.read(magic, 8);
  DIVREC_CHECK_HINT(in.gcount() == 8 && std::memcmp(magic, "\x93NUMPY", 6) == 0, kNpyHint, "'",
                    path, "' is not an .npy file (bad magic)");
  const int major = static_cast<unsigned char>(magic[6]);
  DIVREC_CHECK_HINT(major >= 1 && major <= 3, kNpyHint, "'", path, "': unknown .npy version ",
                    major);
  unsigned char len_bytes[4] = {};
  const int len_size = major == 1 ? 2 : 4;
  in.read(reinterpret_cast<char*>(len_bytes), len_size);
  uint32_t header_len = len_bytes[0] | (len_bytes[1] << 8);
  if (len_size == 4) header_len |= (uint32_t{len_bytes[2]} << 16) | (uint32_t{len_bytes[3]} << 24);
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  DIVREC_CHECK_HINT(in.gcount() == static_cast<std::streamsize>(header_len), kNpyHint, "'", path,
                    "': truncated .npy header");
  const std::string descr = npy_field(header, "descr");
  const std::string order = npy_field(header, "fortran_order");
  NpyArray a;
  a.shape = npy_shape(path, npy_field(header, "shape"));
  DIVREC_CHECK_HINT(order == "False", kNpyHint, "'", path,
                    "' is in Fortran order; expected C order");
  DIVREC_CHECK_HINT(a.shape.size() == 2, "save a 2-D [items, dim] array", "'", path, "' has ",
                    a.shape.size(), " dimensions, expected 2 ([items, dim])");
  size_t elem = 0;
  if (descr == "'<f4'" || descr == "'=f4'") elem = 4;
  if (descr == "'<f8'" || descr == "'=f8'") elem = 8;
  if (descr == "'<f2'" || descr == "'=f2'") elem = 2;
  DIVREC_CHECK_HINT(elem > 0, kNpyHint, "'", path, "' has dtype ", descr,
                    "; expected little-endian float16/32/64 ('<f2', '<f4', '<f8')");
  const auto n = static_cast<size_t>(a.shape[0] * a.shape[1]);
  std::vector<char> raw(n * elem);
  in.read(raw.data(), static_cast<std::streamsize>(raw.size()));
  DIVREC_CHECK_HINT(in.gcount() == static_cast<std::streamsize>(raw.size()), kNpyHint, "'", path,
                    "' is truncated: expected ", raw.size(), " bytes of data after the header");
  a.values.resize(n);
  for (size_t k = 0; k < n; ++k) {
    const char* p = raw.data() + k * elem;
    if (elem == 4) {
      std::memcpy(&a.values[k], p, 4);
    } else if (elem == 8) {
      double d = 0;
      std::memcpy(&d, p, 8);
      a.values[k] = static_cast<float>(d);
    } else {
      uint16_t bits = 0;
      std::memcpy(&bits, p, 2);
      a.values[k] = static_cast<float>(c10::Half(bits, c10::Half::from_bits()));
    }
  }
  return a;
}

}  // namespace divrec::data
