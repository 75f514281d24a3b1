// Atomic file and directory commits, CRC-32 (see fs.h).
#include "core/fs.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/check.h"

namespace fs = std::filesystem;

namespace divrec::core {

std::string temp_path_for(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  DIVREC_CHECK(fd >= 0, "cannot open '", path, "' to fsync: ", std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some file systems refuse fsync on directories (EINVAL); data files must succeed.
  DIVREC_CHECK(rc == 0 || (err == EINVAL && fs::is_directory(path)), "fsync('", path,
               "') failed: ", std::strerror(err));
}

std::string parent_dir(const std::string& path) {
  auto p = fs::path(path).parent_path();
  return p.empty() ? "." : p.string();
}

void commit_file(const std::string& tmp, const std::string& path) {
  fsync_path(tmp);
  DIVREC_CHECK(::rename(tmp.c_str(), path.c_str()) == 0, "rename('", tmp, "' -> '", path,
               "') failed: ", std::strerror(errno));
  fsync_path(parent_dir(path));
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  std::string tmp = temp_path_for(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    DIVREC_CHECK(out.good(), "cannot create '", tmp, "': ", std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out.good()) {
      out.close();
      ::unlink(tmp.c_str());
      DIVREC_FAIL("writing '", tmp, "' failed (disk full?); '", path, "' was left untouched");
    }
  }
  commit_file(tmp, path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DIVREC_CHECK(in.good(), "cannot open '", path, "': ", std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

uint32_t crc32_serial(const Bytef* p, size_t n, uLong crc) {
  while (n > 0) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = ::crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

// Below this many bytes per thread a split does not pay for starting the threads.
constexpr size_t kCrcBytesPerThread = size_t{32} << 20;

}  // namespace

uint32_t crc32_bytes(const void* data, size_t n, uint32_t seed) {
  const auto* p = static_cast<const Bytef*>(data);
  const size_t threads = std::min<size_t>({crc32_threads(), n / kCrcBytesPerThread, 16});
  if (threads < 2) return crc32_serial(p, n, seed);
  // Slices in parallel from a zero seed, then zlib's crc32_combine (CRC-32 is linear):
  // crc(seed, A || B) = combine(crc(seed, A), crc(0, B), |B|). Same value as the serial loop.
  const size_t slice = (n + threads - 1) / threads;
  std::vector<uint32_t> part(threads);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const size_t lo = t * slice, hi = std::min(n, lo + slice);
      part[t] = crc32_serial(p + lo, hi - lo, 0);
    });
  }
  part[0] = crc32_serial(p, slice, seed);
  for (auto& th : pool) th.join();
  uLong crc = part[0];
  for (size_t t = 1; t < threads; ++t) {
    const size_t lo = t * slice, hi = std::min(n, lo + slice);
    crc = ::crc32_combine(crc, part[t], static_cast<z_off_t>(hi - lo));
  }
  return static_cast<uint32_t>(crc);
}

size_t crc32_threads() {
  static const size_t n = std::max(1u, std::thread::hardware_concurrency());
  return n;
}

uint32_t crc32_file(const std::string& path, uint64_t offset) {
  std::ifstream in(path, std::ios::binary);
  DIVREC_CHECK(in.good(), "cannot open '", path, "' for its checksum: ", std::strerror(errno));
  in.seekg(static_cast<std::streamoff>(offset));
  // Large reads, so a multi-GB file's CRC runs on every core (crc32_bytes splits each buffer).
  std::vector<char> buf(std::min<size_t>(size_t{256} << 20, kCrcBytesPerThread * crc32_threads()));
  uint32_t crc = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto got = in.gcount();
    if (got > 0) crc = crc32_bytes(buf.data(), static_cast<size_t>(got), crc);
  }
  return crc;
}

bool path_exists(const std::string& path) { return fs::exists(path); }

void make_dirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  DIVREC_CHECK(!ec, "cannot create directory '", path, "': ", ec.message());
}

AtomicDir::AtomicDir(std::string final_dir) : final_(std::move(final_dir)) {
  while (!final_.empty() && final_.back() == '/') final_.pop_back();
  DIVREC_CHECK(!final_.empty(), "empty output directory name");
  make_dirs(parent_dir(final_));
  tmp_ = final_ + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(tmp_, ec);
  make_dirs(tmp_);
}

AtomicDir::~AtomicDir() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
}

void AtomicDir::commit() {
  for (const auto& e : fs::directory_iterator(tmp_)) {
    if (e.is_regular_file()) fsync_path(e.path().string());
  }
  fsync_path(tmp_);
  std::string old;
  if (fs::exists(final_)) {
    old = final_ + ".old." + std::to_string(::getpid());
    fs::rename(final_, old);
  }
  fs::rename(tmp_, final_);
  fsync_path(parent_dir(final_));
  committed_ = true;
  if (!old.empty()) {
    std::error_code ec;
    fs::remove_all(old, ec);
  }
}

}  // namespace divrec::core
