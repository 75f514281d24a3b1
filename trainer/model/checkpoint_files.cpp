// Checkpoint files on disk (see checkpoint_files.h): framing + CRC-32 footer, verification,
// disk-full-safe atomic writes, and choosing the file to resume from or initialise from.
#include "trainer/model/checkpoint_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "core/check.h"
#include "core/fs.h"
#include "core/log.h"
#include "trainer/model/item_table_file.h"

namespace fs = std::filesystem;

namespace divrec::model {

namespace {

void put_u64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// Checks a footer against the file size and returns the payload length, or a reason.
CheckpointCheck check_footer(const char* footer, uint64_t file_size, uint64_t* payload_len) {
  CheckpointCheck c;
  if (std::memcmp(footer, kCheckpointMagic, 8) != 0) {
    c.reason = "no DIVRECK1 footer (truncated, or not a divrec checkpoint)";
    return c;
  }
  *payload_len = get_u64(footer + 8);
  if (*payload_len != file_size - kCheckpointFooterBytes) {
    c.reason = fmt::format("footer says {} payload bytes but the file has {} (truncated?)",
                           *payload_len, file_size - kCheckpointFooterBytes);
    return c;
  }
  c.ok = true;
  return c;
}

uint32_t footer_crc(const char* footer) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(footer[16 + i])) << (8 * i);
  return v;
}

std::string checkpoints_dir_of(const std::string& dir) {
  auto sub = fs::path(dir) / "checkpoints";
  return fs::is_directory(sub) ? sub.string() : dir;
}

bool rank0() { return core::log_rank() == 0; }

}  // namespace

std::string frame_checkpoint(std::string payload) {
  char footer[kCheckpointFooterBytes] = {};
  std::memcpy(footer, kCheckpointMagic, 8);
  put_u64(footer + 8, payload.size());
  uint32_t crc = core::crc32_bytes(payload.data(), payload.size());
  for (int i = 0; i < 4; ++i) footer[16 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  payload.append(footer, kCheckpointFooterBytes);
  return payload;
}

namespace {

// Footer + CRC of one framed file.
CheckpointCheck verify_framed_file(const std::string& path) {
  CheckpointCheck c;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    c.reason = fmt::format("cannot open: {}", std::strerror(errno));
    return c;
  }
  in.seekg(0, std::ios::end);
  uint64_t size = static_cast<uint64_t>(in.tellg());
  if (size < kCheckpointFooterBytes) {
    c.reason = fmt::format("{} bytes, shorter than the {}-byte footer (truncated)", size,
                           kCheckpointFooterBytes);
    return c;
  }
  char footer[kCheckpointFooterBytes];
  in.seekg(static_cast<std::streamoff>(size - kCheckpointFooterBytes));
  in.read(footer, kCheckpointFooterBytes);
  uint64_t len = 0;
  c = check_footer(footer, size, &len);
  if (!c.ok) return c;
  in.seekg(0);
  std::vector<char> buf(1 << 20);
  uint32_t crc = 0;
  for (uint64_t left = len; left > 0;) {
    auto n = static_cast<std::streamsize>(std::min<uint64_t>(left, buf.size()));
    in.read(buf.data(), n);
    if (in.gcount() != n) {
      c = {false, "read error while checksumming"};
      return c;
    }
    crc = core::crc32_bytes(buf.data(), static_cast<size_t>(n), crc);
    left -= static_cast<uint64_t>(n);
  }
  if (crc != footer_crc(footer)) {
    c = {false, fmt::format("CRC-32 mismatch: footer {:08x}, payload {:08x} (corrupted bytes)",
                            footer_crc(footer), crc)};
  }
  return c;
}

// The sparse item table's shard files beside a checkpoint (model/item_table_file.h): when any
// exist, one complete set <ckpt>.items-<step>.<s>-of-<S> (s = 0..S-1) must pass its CRC.
CheckpointCheck verify_item_table_shards(const std::string& path) {
  std::map<std::pair<std::string, int>, std::set<int>> sets;  // (step, S) -> shards present
  static const std::regex kName(R"(\.items-(\d+)\.(\d+)-of-(\d+)$)");
  for (const auto& f : list_item_table_files(path)) {
    std::smatch m;
    if (!std::regex_search(f, m, kName)) continue;
    sets[{m[1].str(), std::stoi(m[3].str())}].insert(std::stoi(m[2].str()));
  }
  if (sets.empty()) return {true, ""};
  std::string why;
  for (const auto& [key, shards] : sets) {
    const int S = key.second;
    if (static_cast<int>(shards.size()) != S) {
      why = fmt::format("item-table shards of step {}: {} of {} present", key.first, shards.size(), S);
      continue;
    }
    bool ok = true;
    for (int s = 0; s < S && ok; ++s) {
      auto f = fmt::format("{}.items-{}.{}-of-{}", path, key.first, s, S);
      auto c = verify_framed_file(f);
      if (!c.ok) {
        why = fmt::format("item-table shard '{}': {}", f, c.reason);
        ok = false;
      }
    }
    if (ok) return {true, ""};
  }
  return {false, why};
}

}  // namespace

CheckpointCheck verify_checkpoint_file(const std::string& path) {
  auto c = verify_framed_file(path);
  return c.ok ? verify_item_table_shards(path) : c;
}

std::string read_checkpoint_payload(const std::string& path) {
  DIVREC_CHECK(fs::is_regular_file(path), "checkpoint '", path, "' does not exist");
  std::string bytes = core::read_file(path);
  CheckpointCheck c;
  uint64_t len = 0;
  if (bytes.size() < kCheckpointFooterBytes) {
    c.reason = fmt::format("{} bytes, shorter than the footer (truncated)", bytes.size());
  } else {
    const char* footer = bytes.data() + bytes.size() - kCheckpointFooterBytes;
    c = check_footer(footer, bytes.size(), &len);
    if (c.ok) {
      uint32_t crc = core::crc32_bytes(bytes.data(), len);
      if (crc != footer_crc(footer)) {
        c = {false, fmt::format("CRC-32 mismatch: footer {:08x}, payload {:08x} (corrupted bytes)",
                                footer_crc(footer), crc)};
      }
    }
  }
  DIVREC_CHECK_HINT(c.ok, "use an older checkpoint (ckpt-*.pt) or retrain", "checkpoint '", path,
                    "' is unusable: ", c.reason);
  bytes.resize(len);
  return bytes;
}

void write_checkpoint_file(const std::string& path, const std::string& bytes) {
  std::string tmp = core::temp_path_for(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  DIVREC_CHECK(fd >= 0, "cannot create '", tmp, "' for checkpoint '", path,
               "': ", std::strerror(errno));
  size_t done = 0;
  int err = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      err = w < 0 ? errno : ENOSPC;
      break;
    }
    done += static_cast<size_t>(w);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    bool full = err == ENOSPC || err == EFBIG || err == EDQUOT;
    DIVREC_CHECK_HINT(false, full ? "free disk space, or lower the number of checkpoints kept" : "",
                      "writing checkpoint '", path, "' failed after ", done, " of ", bytes.size(),
                      " bytes: ", std::strerror(err), full ? " (disk full or file size limit)" : "",
                      "; the temp file was removed and earlier checkpoints are intact");
  }
  try {
    core::commit_file(tmp, path);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}

std::vector<std::string> list_checkpoints(const std::string& checkpoints_dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  if (!fs::is_directory(checkpoints_dir)) return {};
  static const std::regex kName(R"(ckpt-(\d+)\.pt)");
  for (const auto& e : fs::directory_iterator(checkpoints_dir)) {
    std::smatch m;
    std::string name = e.path().filename().string();
    if (e.is_regular_file() && std::regex_match(name, m, kName)) {
      found.emplace_back(std::stoll(m[1].str()), e.path().string());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

std::string find_resume_checkpoint(const std::string& run_dir_or_file, const std::string& mode) {
  if (mode == "none") return "";
  DIVREC_CHECK(mode == "auto", "unknown resume mode '", mode, "' (expected auto or none)");
  if (fs::is_regular_file(run_dir_or_file)) {
    auto c = verify_checkpoint_file(run_dir_or_file);
    DIVREC_CHECK(c.ok, "resume checkpoint '", run_dir_or_file, "' is unusable: ", c.reason);
    return run_dir_or_file;
  }
  auto list = list_checkpoints(checkpoints_dir_of(run_dir_or_file));
  for (size_t i = list.size(); i-- > 0;) {
    auto c = verify_checkpoint_file(list[i]);
    if (c.ok) return list[i];
    if (rank0()) {
      core::log_error("checkpoint '{}' is unusable ({}); trying the previous one", list[i],
                      c.reason);
    }
  }
  // Starting fresh here would write low step numbers that pruning then deletes first.
  DIVREC_CHECK_HINT(list.empty(), "remove the broken files or start a new run directory",
                    "none of the ", list.size(), " checkpoints under '", run_dir_or_file,
                    "' is valid");
  return "";
}

std::string resolve_checkpoint_arg(const std::string& path) {
  if (fs::is_regular_file(path)) return path;
  DIVREC_CHECK(fs::is_directory(path), "checkpoint '", path,
               "' is neither a file nor a run "
               "directory");
  std::string dir = checkpoints_dir_of(path);
  std::string best = (fs::path(dir) / "best.pt").string();
  if (fs::is_regular_file(best)) {
    auto c = verify_checkpoint_file(best);
    if (c.ok) return best;
    if (rank0())
      core::log_error("'{}' is unusable ({}); using the newest checkpoint", best, c.reason);
  }
  std::string newest = find_resume_checkpoint(dir, "auto");
  DIVREC_CHECK(!newest.empty(), "no checkpoint (best.pt or ckpt-*.pt) under '", path, "'");
  return newest;
}

}  // namespace divrec::model
