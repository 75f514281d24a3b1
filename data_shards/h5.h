// RAII wrappers over the HDF5 C API for divrec's files: handles that close themselves, typed
// 1-D/2-D array and string I/O (chunked, shuffle + deflate), scalar and string attributes, and
// deterministic files (no object timestamps, fixed library-version bounds). Every failure becomes
// a divrec::Error carrying HDF5's own message; HDF5's automatic stack printing is silenced.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace divrec::data::h5 {

// The Debian HDF5 library is not thread-safe; every wrapper call takes this (recursive) lock,
// so threads (e.g. fake-communicator ranks) may use different files at once. Callers doing raw
// H5* calls on wrapper ids from several threads should hold it too.
std::unique_lock<std::recursive_mutex> lock();

// The innermost messages of HDF5's current error stack ("" when empty); cleared afterwards.
std::string error_stack();

// One hid_t and the function that closes it. Move-only.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*closer)(hid_t)) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  hid_t release() {  // gives up ownership without closing
    hid_t i = id_;
    id_ = -1;
    return i;
  }

 private:
  hid_t id_ = -1;
  herr_t (*closer_)(hid_t) = nullptr;
};

class Dataspace : public Handle {
 public:
  using Handle::Handle;
  static Dataspace scalar();
  static Dataspace simple(const std::vector<hsize_t>& dims);
  std::vector<hsize_t> dims() const;
  hsize_t num_elements() const;
};

class Attribute : public Handle {
 public:
  using Handle::Handle;
};

// A named object (file root, group or dataset): its location for messages and its attributes.
class Node : public Handle {
 public:
  Node() = default;
  Node(hid_t id, herr_t (*closer)(hid_t), std::string file, std::string path)
      : Handle(id, closer), file_(std::move(file)), path_(std::move(path)) {}
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  // "file:/path/name" for messages.
  std::string where(const std::string& name = "") const;
  std::string child_path(const std::string& name) const;

  bool has_attr(const std::string& name) const;
  void set_attr_int(const std::string& name, int64_t value) const;
  void set_attr_uint32(const std::string& name, uint32_t value) const;
  void set_attr_string(const std::string& name, const std::string& value) const;
  int64_t attr_int(const std::string& name) const;  // any integer type
  std::string attr_string(const std::string& name) const;

 private:
  Attribute open_attr(const std::string& name) const;

  std::string file_;
  std::string path_;  // "/" for the root group
};

class Dataset : public Node {
 public:
  Dataset() = default;
  Dataset(hid_t id, std::string file, std::string path)
      : Node(id, H5Dclose, std::move(file), std::move(path)) {}
  Dataspace space() const;
  std::vector<hsize_t> dims() const { return space().dims(); }
};

// How an array is stored: chunked + shuffle + deflate level 1 (the default: event logs and id
// arrays shrink several-fold), or contiguous and uncompressed (large float matrices, which
// deflate barely shrinks, ~7 %, and which must load at memory speed: the serving artifact's item
// vectors and weights; HDF5 reads either layout transparently).
enum class Storage { kCompressed, kContiguous };

// Anything that holds links: a file (its root group) or a group.
class Group : public Node {
 public:
  using Node::Node;

  Group create_group(const std::string& name) const;
  Group open_group(const std::string& name) const;
  bool has(const std::string& name) const;  // a link (dataset or group) of that name exists
  Dataset open_dataset(const std::string& name) const;

  // Writes an array of `dims` from `data` (row-major), compressed unless `storage` says otherwise.
  template <typename T>
  void write_array(const std::string& name, const T* data, const std::vector<hsize_t>& dims,
                   Storage storage = Storage::kCompressed) const {
    static_assert(std::is_arithmetic_v<T>);
    write_raw(name, native_type<T>(), sizeof(T), data, dims, H5I_INVALID_HID, storage);
  }
  // Reads a whole array; checks the stored rank and converts the element type to T.
  template <typename T>
  std::vector<T> read_array(const std::string& name, std::vector<hsize_t>* dims = nullptr) const {
    std::vector<hsize_t> d;
    Dataset ds = open_dataset(name);
    d = ds.dims();
    hsize_t n = 1;
    for (auto x : d) n *= x;
    std::vector<T> out(n);
    read_raw(ds, native_type<T>(), out.data());
    if (dims) *dims = d;
    return out;
  }
  // Rows [begin, end) of a 1-D array.
  template <typename T>
  std::vector<T> read_range(const std::string& name, hsize_t begin, hsize_t end) const {
    std::vector<T> out(end - begin);
    read_raw_range(open_dataset(name), native_type<T>(), out.data(), begin, end);
    return out;
  }
  // Variable-length UTF-8 string arrays (h5py: ds.asstr()[...]).
  void write_strings(const std::string& name, const std::vector<std::string>& values) const;
  // The same values as fixed-length UTF-8 strings (NUL-padded to the longest, compressed) when
  // every value is at most `max_width` bytes and has no NUL, else as write_strings does.
  // read_strings gives back the same values either way, and reads 10 M short fixed-length ids
  // ~10x faster than variable-length ones (one buffer instead of one allocation per string).
  // h5py reads them as bytes.
  void write_short_strings(const std::string& name, const std::vector<std::string>& values,
                           size_t max_width = 64) const;
  std::vector<std::string> read_strings(const std::string& name) const;

  template <typename T>
  static hid_t native_type() {
    if constexpr (std::is_same_v<T, int8_t>)
      return H5T_NATIVE_INT8;
    else if constexpr (std::is_same_v<T, uint8_t>)
      return H5T_NATIVE_UINT8;
    else if constexpr (std::is_same_v<T, int32_t>)
      return H5T_NATIVE_INT32;
    else if constexpr (std::is_same_v<T, uint32_t>)
      return H5T_NATIVE_UINT32;
    else if constexpr (std::is_same_v<T, int64_t>)
      return H5T_NATIVE_INT64;
    else if constexpr (std::is_same_v<T, uint64_t>)
      return H5T_NATIVE_UINT64;
    else if constexpr (std::is_same_v<T, float>)
      return H5T_NATIVE_FLOAT;
    else if constexpr (std::is_same_v<T, double>)
      return H5T_NATIVE_DOUBLE;
    else
      static_assert(sizeof(T) == 0, "unsupported HDF5 element type");
  }

  // Untyped access for element types native_type() does not cover (content_dtype.cpp's 16-bit
  // floats): `type` is the memory type; file_type (default: file_type_for(type)) the stored one.
  void write_raw(const std::string& name, hid_t type, size_t elem_size, const void* data,
                 const std::vector<hsize_t>& dims, hid_t file_type = H5I_INVALID_HID,
                 Storage storage = Storage::kCompressed) const;
  void read_raw(const Dataset& ds, hid_t type, void* out) const;

 private:
  void read_raw_range(const Dataset& ds, hid_t type, void* out, hsize_t begin, hsize_t end) const;
};

// Whether a file carries a whole-file checksum header (h5_seal.h): create() reserves the user
// block and close() fills it in; open() then requires it. Without kYes, open() still verifies a
// header that is present.
enum class Sealed { kNo, kYes };

// A file is its root group plus create/open. create() truncates; open() is read-only and gives a
// clear error for a missing, truncated, corrupted (checksum) or non-HDF5 file.
class File : public Group {
 public:
  using Group::Group;
  static File create(const std::string& path, Sealed sealed = Sealed::kNo);
  static File open(const std::string& path, Sealed sealed = Sealed::kNo);
  // Opens `path` and checks divrec_kind == kind and divrec_format_version == kFormatVersion.
  static File open_divrec(const std::string& path, const std::string& kind,
                          Sealed sealed = Sealed::kNo);
  // Stamps divrec_kind and divrec_format_version.
  void stamp(const std::string& kind) const;
  // Flushes (and seals); the destructor closes too, but only close() reports errors and seals.
  void close();

 private:
  bool sealed_ = false;
};

// 1-D convenience forms.
[[noreturn]] void throw_rank_error(const Group& g, const std::string& name, size_t got,
                                   size_t expected);
template <typename T>
void write_vector(const Group& g, const std::string& name, const std::vector<T>& v) {
  g.write_array(name, v.data(), {static_cast<hsize_t>(v.size())});
}
template <typename T>
std::vector<T> read_vector(const Group& g, const std::string& name) {
  std::vector<hsize_t> dims;
  auto v = g.read_array<T>(name, &dims);
  if (dims.size() != 1) throw_rank_error(g, name, dims.size(), 1);
  return v;
}

}  // namespace divrec::data::h5
