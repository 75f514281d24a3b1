// HDF5 wrappers (see h5.h): handle lifetimes, chunked/compressed array I/O, strings, attributes,
// and the error stack turned into divrec::Error messages.
#include "data_shards/h5.h"

#include <algorithm>
#include <filesystem>

#include "core/check.h"
#include "data_shards/dataset.h"
#include "data_shards/h5_seal.h"

namespace divrec::data::h5 {

namespace {

constexpr unsigned kDeflateLevel = 1;            // level 4 was ~25% slower for ~3% smaller files
constexpr size_t kChunkBytes = size_t{1} << 20;  // ~1 MiB chunks

herr_t collect_error(unsigned n, const H5E_error2_t* e, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (n < 3 && e->desc && *e->desc) {  // the three most specific entries suffice
    if (!s->empty()) *s += "; ";
    *s += e->desc;
  }
  return 0;
}

// Throws with `what`, HDF5's own explanation, and a hint.
[[noreturn]] void fail(const std::string& what) {
  std::string stack = error_stack();
  throw Error(__FILE__, __LINE__, stack.empty() ? what : what + " (HDF5: " + stack + ")",
              "the file may be truncated, corrupted, foreign or of another format version");
}

template <typename R>
R check(R rc, const std::string& what) {
  if (rc < 0) fail(what);
  return rc;
}

// Little-endian, fixed-size file types, so files are the same on any host.
hid_t file_type_for(hid_t native) {
  if (H5Tequal(native, H5T_NATIVE_INT8) > 0) return H5T_STD_I8LE;
  if (H5Tequal(native, H5T_NATIVE_UINT8) > 0) return H5T_STD_U8LE;
  if (H5Tequal(native, H5T_NATIVE_INT32) > 0) return H5T_STD_I32LE;
  if (H5Tequal(native, H5T_NATIVE_UINT32) > 0) return H5T_STD_U32LE;
  if (H5Tequal(native, H5T_NATIVE_INT64) > 0) return H5T_STD_I64LE;
  if (H5Tequal(native, H5T_NATIVE_UINT64) > 0) return H5T_STD_U64LE;
  if (H5Tequal(native, H5T_NATIVE_FLOAT) > 0) return H5T_IEEE_F32LE;
  if (H5Tequal(native, H5T_NATIVE_DOUBLE) > 0) return H5T_IEEE_F64LE;
  DIVREC_FAIL("internal: no HDF5 file type for this native type");
}

Handle vlen_string_type() {
  Handle t(check(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  check(H5Tset_size(t.id(), H5T_VARIABLE), "H5Tset_size");
  check(H5Tset_cset(t.id(), H5T_CSET_UTF8), "H5Tset_cset");
  return t;
}

// Dataset creation properties: no timestamps (deterministic bytes); chunked + shuffle + deflate
// when there is data (a zero-sized dataset cannot be chunked with fixed dims), or contiguous.
Handle make_dcpl(const std::vector<hsize_t>& dims, size_t elem_size, bool vlen = false,
                 Storage storage = Storage::kCompressed) {
  Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"), H5Pclose);
  check(H5Pset_obj_track_times(dcpl.id(), false), "H5Pset_obj_track_times");
  hsize_t n = 1;
  for (auto d : dims) n *= d;
  if (n == 0) return dcpl;
  if (storage == Storage::kContiguous) {
    check(H5Pset_layout(dcpl.id(), H5D_CONTIGUOUS), "H5Pset_layout");
    if (!vlen) check(H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time");
    return dcpl;
  }
  std::vector<hsize_t> chunk = dims;
  hsize_t row_bytes = elem_size;
  for (size_t i = 1; i < dims.size(); ++i) row_bytes *= dims[i];
  chunk[0] = std::clamp<hsize_t>(kChunkBytes / std::max<hsize_t>(row_bytes, 1), 1, dims[0]);
  check(H5Pset_chunk(dcpl.id(), static_cast<int>(chunk.size()), chunk.data()), "H5Pset_chunk");
  check(H5Pset_shuffle(dcpl.id()), "H5Pset_shuffle");
  check(H5Pset_deflate(dcpl.id(), kDeflateLevel), "H5Pset_deflate");
  // Every byte is written right away, so skip the fill (HDF5 forbids that for vlen data).
  if (!vlen) check(H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time");
  return dcpl;
}

Handle make_gcpl() {
  Handle gcpl(check(H5Pcreate(H5P_GROUP_CREATE), "H5Pcreate"), H5Pclose);
  check(H5Pset_obj_track_times(gcpl.id(), false), "H5Pset_obj_track_times");
  return gcpl;
}

}  // namespace

std::unique_lock<std::recursive_mutex> lock() {
  static std::recursive_mutex m;
  std::unique_lock<std::recursive_mutex> l(m);
  // HDF5's error-printing switch is per thread in thread-safe builds.
  thread_local bool silenced = false;
  if (!silenced) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    silenced = true;
  }
  return l;
}

std::string error_stack() {
  auto l = lock();
  std::string s;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error, &s);
  H5Eclear2(H5E_DEFAULT);
  return s;
}

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    closer_ = o.closer_;
    o.id_ = -1;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && closer_) {
    auto l = lock();
    closer_(id_);
  }
  id_ = -1;
}

Dataspace Dataspace::scalar() {
  auto l = lock();
  return Dataspace(check(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
}

Dataspace Dataspace::simple(const std::vector<hsize_t>& dims) {
  auto l = lock();
  return Dataspace(
      check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "H5Screate"),
      H5Sclose);
}

std::vector<hsize_t> Dataspace::dims() const {
  auto l = lock();
  int rank = check(H5Sget_simple_extent_ndims(id()), "H5Sget_simple_extent_ndims");
  std::vector<hsize_t> d(static_cast<size_t>(rank));
  if (rank > 0) check(H5Sget_simple_extent_dims(id(), d.data(), nullptr), "H5Sget_extent_dims");
  return d;
}

hsize_t Dataspace::num_elements() const {
  hsize_t n = 1;
  for (auto d : dims()) n *= d;
  return n;
}

Dataspace Dataset::space() const {
  auto l = lock();
  return Dataspace(check(H5Dget_space(id()), "H5Dget_space of " + where()), H5Sclose);
}

std::string Node::child_path(const std::string& name) const {
  if (name.empty()) return path_;
  return path_ == "/" ? "/" + name : path_ + "/" + name;
}

std::string Node::where(const std::string& name) const { return file_ + ":" + child_path(name); }

Group Group::create_group(const std::string& name) const {
  auto l = lock();
  Handle gcpl = make_gcpl();
  hid_t g = check(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, gcpl.id(), H5P_DEFAULT),
                  "cannot create group " + where(name));
  return Group(g, H5Gclose, file(), child_path(name));
}

Group Group::open_group(const std::string& name) const {
  auto l = lock();
  DIVREC_CHECK_HINT(has(name), "the file may be foreign, truncated or of another format version",
                    "missing group ", where(name));
  hid_t g = check(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), "cannot open group " + where(name));
  return Group(g, H5Gclose, file(), child_path(name));
}

bool Group::has(const std::string& name) const {
  auto l = lock();
  htri_t r = H5Lexists(id(), name.c_str(), H5P_DEFAULT);
  if (r < 0) H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

Dataset Group::open_dataset(const std::string& name) const {
  auto l = lock();
  DIVREC_CHECK_HINT(has(name), "the file may be foreign, truncated or of another format version",
                    "missing dataset ", where(name));
  hid_t d = check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), "cannot open dataset " + where(name));
  return Dataset(d, file(), child_path(name));
}

bool Node::has_attr(const std::string& name) const {
  auto l = lock();
  htri_t r = H5Aexists(id(), name.c_str());
  if (r < 0) H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

Attribute Node::open_attr(const std::string& name) const {
  auto l = lock();
  DIVREC_CHECK_HINT(has_attr(name), "the file may be foreign or of another format version",
                    "missing attribute '", name, "' on ", where());
  return Attribute(check(H5Aopen(id(), name.c_str(), H5P_DEFAULT),
                         "cannot open attribute '" + name + "' on " + where()),
                   H5Aclose);
}

void Node::set_attr_int(const std::string& name, int64_t value) const {
  auto l = lock();
  if (has_attr(name)) check(H5Adelete(id(), name.c_str()), "H5Adelete " + name);
  Dataspace s = Dataspace::scalar();
  Attribute a(check(H5Acreate2(id(), name.c_str(), H5T_STD_I64LE, s.id(), H5P_DEFAULT, H5P_DEFAULT),
                    "cannot create attribute '" + name + "' on " + where()),
              H5Aclose);
  check(H5Awrite(a.id(), H5T_NATIVE_INT64, &value), "cannot write attribute " + name);
}

void Node::set_attr_uint32(const std::string& name, uint32_t value) const {
  auto l = lock();
  if (has_attr(name)) check(H5Adelete(id(), name.c_str()), "H5Adelete " + name);
  Dataspace s = Dataspace::scalar();
  Attribute a(check(H5Acreate2(id(), name.c_str(), H5T_STD_U32LE, s.id(), H5P_DEFAULT, H5P_DEFAULT),
                    "cannot create attribute '" + name + "' on " + where()),
              H5Aclose);
  check(H5Awrite(a.id(), H5T_NATIVE_UINT32, &value), "cannot write attribute " + name);
}

void Node::set_attr_string(const std::string& name, const std::string& value) const {
  auto l = lock();
  if (has_attr(name)) check(H5Adelete(id(), name.c_str()), "H5Adelete " + name);
  Handle t = vlen_string_type();
  Dataspace s = Dataspace::scalar();
  Attribute a(check(H5Acreate2(id(), name.c_str(), t.id(), s.id(), H5P_DEFAULT, H5P_DEFAULT),
                    "cannot create attribute '" + name + "' on " + where()),
              H5Aclose);
  const char* p = value.c_str();
  check(H5Awrite(a.id(), t.id(), &p), "cannot write attribute " + name);
}

int64_t Node::attr_int(const std::string& name) const {
  auto l = lock();
  Attribute a = open_attr(name);
  Handle t(check(H5Aget_type(a.id()), "H5Aget_type"), H5Tclose);
  DIVREC_CHECK_HINT(H5Tget_class(t.id()) == H5T_INTEGER, "the file may be foreign", "attribute '",
                    name, "' on ", where(), " is not an integer");
  int64_t v = 0;
  check(H5Aread(a.id(), H5T_NATIVE_INT64, &v),
        "cannot read attribute '" + name + "' on " + where());
  return v;
}

std::string Node::attr_string(const std::string& name) const {
  auto l = lock();
  Attribute a = open_attr(name);
  Handle t(check(H5Aget_type(a.id()), "H5Aget_type"), H5Tclose);
  DIVREC_CHECK_HINT(H5Tget_class(t.id()) == H5T_STRING, "the file may be foreign", "attribute '",
                    name, "' on ", where(), " is not a string");
  if (H5Tis_variable_str(t.id()) > 0) {
    Handle mt = vlen_string_type();
    char* p = nullptr;
    check(H5Aread(a.id(), mt.id(), &p), "cannot read attribute '" + name + "' on " + where());
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  size_t n = H5Tget_size(t.id());
  std::string s(n, '\0');
  check(H5Aread(a.id(), t.id(), s.data()), "cannot read attribute '" + name + "' on " + where());
  s.resize(std::min(s.find('\0'), s.size()));
  return s;
}

void Group::write_raw(const std::string& name, hid_t type, size_t elem_size, const void* data,
                      const std::vector<hsize_t>& dims, hid_t file_type, Storage storage) const {
  auto l = lock();
  Dataspace space = Dataspace::simple(dims);
  Handle dcpl = make_dcpl(dims, elem_size, false, storage);
  if (file_type == H5I_INVALID_HID) file_type = file_type_for(type);
  Dataset ds(check(H5Dcreate2(id(), name.c_str(), file_type, space.id(), H5P_DEFAULT, dcpl.id(),
                              H5P_DEFAULT),
                   "cannot create dataset " + where(name)),
             file(), child_path(name));
  if (space.num_elements() > 0) {
    check(H5Dwrite(ds.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
          "cannot write dataset " + where(name) + " (disk full?)");
  }
}

void Group::read_raw(const Dataset& ds, hid_t type, void* out) const {
  auto l = lock();
  if (ds.space().num_elements() == 0) return;
  check(H5Dread(ds.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out),
        "cannot read dataset " + ds.where());
}

void Group::read_raw_range(const Dataset& ds, hid_t type, void* out, hsize_t begin,
                           hsize_t end) const {
  auto l = lock();
  Dataspace fs = ds.space();
  auto dims = fs.dims();
  DIVREC_CHECK(dims.size() == 1 && begin <= end && end <= dims[0], "rows [", begin, ", ", end,
               ") out of range for ", ds.where());
  if (begin == end) return;
  hsize_t count = end - begin;
  check(H5Sselect_hyperslab(fs.id(), H5S_SELECT_SET, &begin, nullptr, &count, nullptr),
        "H5Sselect_hyperslab");
  Dataspace ms = Dataspace::simple({count});
  check(H5Dread(ds.id(), type, ms.id(), fs.id(), H5P_DEFAULT, out),
        "cannot read rows of dataset " + ds.where());
}

void Group::write_strings(const std::string& name, const std::vector<std::string>& values) const {
  auto l = lock();
  std::vector<const char*> ptrs(values.size());
  for (size_t i = 0; i < values.size(); ++i) ptrs[i] = values[i].c_str();
  std::vector<hsize_t> dims{values.size()};
  Dataspace space = Dataspace::simple(dims);
  Handle t = vlen_string_type();
  Handle dcpl = make_dcpl(dims, 16, /*vlen=*/true);  // a vlen reference is 16 bytes on disk
  Dataset ds(
      check(H5Dcreate2(id(), name.c_str(), t.id(), space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT),
            "cannot create dataset " + where(name)),
      file(), child_path(name));
  if (!values.empty()) {
    check(H5Dwrite(ds.id(), t.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
          "cannot write dataset " + where(name));
  }
}

void Group::write_short_strings(const std::string& name, const std::vector<std::string>& values,
                                size_t max_width) const {
  size_t w = 1;
  for (const auto& v : values) {
    if (v.size() > max_width || v.find('\0') != std::string::npos) {
      write_strings(name, values);
      return;
    }
    w = std::max(w, v.size());
  }
  auto l = lock();
  Handle t(check(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  check(H5Tset_size(t.id(), w), "H5Tset_size");
  check(H5Tset_strpad(t.id(), H5T_STR_NULLPAD), "H5Tset_strpad");
  check(H5Tset_cset(t.id(), H5T_CSET_UTF8), "H5Tset_cset");
  std::vector<char> buf(w * values.size(), '\0');
  for (size_t i = 0; i < values.size(); ++i)
    std::copy(values[i].begin(), values[i].end(), &buf[i * w]);
  std::vector<hsize_t> dims{values.size()};
  Dataspace space = Dataspace::simple(dims);
  Handle dcpl = make_dcpl(dims, w);
  Dataset ds(
      check(H5Dcreate2(id(), name.c_str(), t.id(), space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT),
            "cannot create dataset " + where(name)),
      file(), child_path(name));
  if (!values.empty()) {
    check(H5Dwrite(ds.id(), t.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()),
          "cannot write dataset " + where(name));
  }
}

std::vector<std::string> Group::read_strings(const std::string& name) const {
  auto l = lock();
  Dataset ds = open_dataset(name);
  Dataspace space = ds.space();
  auto dims = space.dims();
  DIVREC_CHECK_HINT(dims.size() == 1, "the file may be foreign", ds.where(),
                    " should be a 1-D string array");
  Handle ft(check(H5Dget_type(ds.id()), "H5Dget_type"), H5Tclose);
  DIVREC_CHECK_HINT(H5Tget_class(ft.id()) == H5T_STRING, "the file may be foreign", ds.where(),
                    " should hold strings");
  std::vector<std::string> out(dims[0]);
  if (dims[0] == 0) return out;
  if (H5Tis_variable_str(ft.id()) > 0) {
    Handle mt = vlen_string_type();
    std::vector<char*> ptrs(dims[0], nullptr);
    check(H5Dread(ds.id(), mt.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
          "cannot read dataset " + ds.where());
    for (size_t i = 0; i < ptrs.size(); ++i) out[i] = ptrs[i] ? ptrs[i] : "";
    H5Dvlen_reclaim(mt.id(), space.id(), H5P_DEFAULT, ptrs.data());  // H5Treclaim in 1.12+
    return out;
  }
  size_t w = H5Tget_size(ft.id());  // fixed-length strings (e.g. written by numpy 'S' arrays)
  std::vector<char> buf(w * dims[0]);
  check(H5Dread(ds.id(), ft.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()),
        "cannot read dataset " + ds.where());
  for (size_t i = 0; i < dims[0]; ++i) {
    const char* p = buf.data() + i * w;
    out[i].assign(p, std::find(p, p + w, '\0'));
  }
  return out;
}

void throw_rank_error(const Group& g, const std::string& name, size_t got, size_t expected) {
  DIVREC_FAIL(g.where(name), " has ", got, " dimensions, expected ", expected,
              " (foreign or corrupted file?)");
}

File File::create(const std::string& path, Sealed sealed) {
  auto l = lock();
  Handle fcpl(check(H5Pcreate(H5P_FILE_CREATE), "H5Pcreate"), H5Pclose);
  check(H5Pset_obj_track_times(fcpl.id(), false), "H5Pset_obj_track_times");
  if (sealed == Sealed::kYes) check(H5Pset_userblock(fcpl.id(), kSealBytes), "H5Pset_userblock");
  Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"), H5Pclose);
  // Fixed format bounds: the same bytes with any 1.10+ library, readable by 1.8 and h5py.
  check(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_EARLIEST, H5F_LIBVER_V18),
        "H5Pset_libver_bounds");
  // A sealed file's checksum is computed after close(), so close() must really close it: with
  // the default degree, groups still open in the caller's scope would keep it open and their
  // final metadata writes would land after the seal.
  if (sealed == Sealed::kYes) {
    check(H5Pset_fclose_degree(fapl.id(), H5F_CLOSE_STRONG), "H5Pset_fclose_degree");
  }
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.id(), fapl.id());
  if (f < 0) fail("cannot create HDF5 file '" + path + "' (directory missing or not writable?)");
  File out(f, H5Fclose, path, "/");
  out.sealed_ = sealed == Sealed::kYes;
  return out;
}

File File::open(const std::string& path, Sealed sealed) {
  auto l = lock();
  DIVREC_CHECK_HINT(std::filesystem::exists(path), "check the dataset directory", "no such file: '",
                    path, "'");
  // Before H5Fopen: libhdf5 must never parse the bytes of a file that fails its checksum.
  verify_seal(path, sealed == Sealed::kYes,
              "the file was corrupted or modified after divrec wrote it; write it again (or "
              "restore a copy)");
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    fail("'" + path + "' is not a readable HDF5 file (truncated, corrupted or not HDF5 at all)");
  }
  return File(f, H5Fclose, path, "/");
}

File File::open_divrec(const std::string& path, const std::string& kind, Sealed sealed) {
  File f = open(path, sealed);
  std::string expected =
      "expected a divrec '" + kind + "' file of format version " + std::to_string(kFormatVersion);
  DIVREC_CHECK_HINT(f.has_attr("divrec_kind") && f.has_attr("divrec_format_version"),
                    "is this a divrec dataset directory?", "'", path,
                    "' is an HDF5 file but not a divrec file (no divrec_kind / "
                    "divrec_format_version attributes); ",
                    expected);
  std::string got = f.attr_string("divrec_kind");
  DIVREC_CHECK_HINT(got == kind, "is this a divrec dataset directory?", "'", path,
                    "' is a divrec '", got, "' file; ", expected);
  int64_t version = f.attr_int("divrec_format_version");
  DIVREC_CHECK_HINT(
      version == kFormatVersion, "reconvert the data with this build's `divrec shard convert`", "'",
      path, "' has divrec format version ", version, "; this build reads version ", kFormatVersion);
  return f;
}

void File::stamp(const std::string& kind) const {
  set_attr_int("divrec_format_version", kFormatVersion);
  set_attr_string("divrec_kind", kind);
}

void File::close() {
  auto l = lock();
  if (!valid()) return;
  check(H5Fflush(id(), H5F_SCOPE_LOCAL), "cannot flush '" + file() + "' (disk full?)");
  check(H5Fclose(release()), "cannot close '" + file() + "' (disk full?)");
  if (sealed_) write_seal(file());
}

}  // namespace divrec::data::h5
