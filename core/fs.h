// Files that are never left half-written: write to a temp name beside the target, fsync, rename,
// fsync the directory. Also CRC-32 checksums of files (zlib's, so Python's zlib.crc32 agrees).
#pragma once

#include <cstdint>
#include <string>

namespace divrec::core {

// "<path>.tmp.<pid>" in the same directory (rename must not cross file systems).
std::string temp_path_for(const std::string& path);
void fsync_path(const std::string& path);  // a file or a directory
// fsync(tmp), rename(tmp, path), fsync(parent of path). Throws with both names on failure.
void commit_file(const std::string& tmp, const std::string& path);
void write_file_atomic(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);
// Of the bytes from `offset` to the end of the file.
uint32_t crc32_file(const std::string& path, uint64_t offset = 0);
// zlib's CRC-32 of n bytes continuing from `seed`; above 64 MiB split over crc32_threads() threads
// and joined with crc32_combine (the same value as one serial pass).
uint32_t crc32_bytes(const void* data, size_t n, uint32_t seed = 0);
// The threads crc32_bytes may use: the hardware's (artifact and index loads are start-up work).
size_t crc32_threads();
bool path_exists(const std::string& path);
void make_dirs(const std::string& path);
std::string parent_dir(const std::string& path);

// A directory built under a temp name and renamed into place by commit(); removed on
// destruction if never committed. An existing target is replaced only after the new one is
// complete (old -> "<dir>.old.<pid>", new -> dir, old removed).
class AtomicDir {
 public:
  explicit AtomicDir(std::string final_dir);
  ~AtomicDir();
  AtomicDir(const AtomicDir&) = delete;
  AtomicDir& operator=(const AtomicDir&) = delete;
  const std::string& path() const { return tmp_; }  // write here
  std::string file(const std::string& name) const { return tmp_ + "/" + name; }
  void commit();

 private:
  std::string final_;
  std::string tmp_;
  bool committed_ = false;
};

}  // namespace divrec::core
