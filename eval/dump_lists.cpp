// Gathering and writing the per-user lists (see dump_lists.h).
#include "eval/dump_lists.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/comm/typed.h"
#include "core/fs.h"

namespace divrec::eval {

std::string list_json_line(const std::string& raw_user, const int32_t* history,
                           int64_t history_size, const RerankResult& list,
                           const data::ItemTable& items) {
  nlohmann::json j;
  j["user"] = raw_user;
  auto h = nlohmann::json::array();
  for (int64_t i = 0; i < history_size; ++i) h.push_back(items.raw_ids[history[i]]);
  j["history"] = std::move(h);
  auto it = nlohmann::json::array();
  auto sc = nlohmann::json::array();
  auto re = nlohmann::json::array();
  for (size_t i = 0; i < list.items.size(); ++i) {
    it.push_back(items.raw_ids[list.items[i]]);
    sc.push_back(list.scores[i]);
    re.push_back(reason_name(list.reasons[i]));
  }
  j["items"] = std::move(it);
  j["scores"] = std::move(sc);
  j["reasons"] = std::move(re);
  return j.dump();
}

void write_dump_lists(const std::string& path, std::vector<DumpLine> mine, int64_t num_users,
                      core::Communicator& comm, int64_t users_per_round) {
  DIVREC_CHECK(users_per_round > 0, "dump lists: users_per_round must be positive");
  std::sort(mine.begin(), mine.end(),
            [](const DumpLine& a, const DumpLine& b) { return a.user < b.user; });
  const bool root = comm.rank() == 0;
  // Rank 0's temp file; removed unless committed (an exception mid-way leaves no litter).
  std::string tmp;
  std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, &std::fclose);
  bool committed = false;
  struct Cleanup {
    const std::string& tmp;
    const bool& committed;
    ~Cleanup() {
      if (!tmp.empty() && !committed) std::remove(tmp.c_str());
    }
  } cleanup{tmp, committed};
  if (root) {
    tmp = core::temp_path_for(path);
    file.reset(std::fopen(tmp.c_str(), "wb"));
    DIVREC_CHECK(file != nullptr, "--dump-lists: cannot create '", tmp,
                 "': ", std::strerror(errno));
  }
  FILE* f = file.get();
  // Every rank runs the same rounds (decided by num_users, not by the data). A failure on one
  // rank leaves the others in a collective; the job's error handler aborts them all.
  size_t next = 0;
  bool write_ok = true;
  for (int64_t lo = 0; lo < num_users; lo += users_per_round) {
    const int64_t hi = std::min(num_users, lo + users_per_round);
    std::vector<int64_t> ids;
    std::vector<int64_t> lens;
    std::vector<uint8_t> bytes;
    for (; next < mine.size() && mine[next].user < hi; ++next) {
      DIVREC_CHECK(mine[next].user >= lo, "dump lists: user ", mine[next].user, " is outside [0, ",
                   num_users, ")");
      ids.push_back(mine[next].user);
      lens.push_back(static_cast<int64_t>(mine[next].json.size()));
      bytes.insert(bytes.end(), mine[next].json.begin(), mine[next].json.end());
    }
    auto all_ids = core::allgatherv(comm, ids);
    auto all_lens = core::allgatherv(comm, lens);
    auto all_bytes = core::allgatherv(comm, bytes);
    if (!root) continue;
    std::vector<int64_t> starts(all_lens.size());
    int64_t off = 0;
    for (size_t i = 0; i < all_lens.size(); ++i) {
      starts[i] = off;
      off += all_lens[i];
    }
    std::vector<size_t> order(all_ids.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return all_ids[a] < all_ids[b]; });
    for (size_t i : order) {
      write_ok = write_ok &&
                 std::fwrite(all_bytes.data() + starts[i], 1, static_cast<size_t>(all_lens[i]),
                             f) == static_cast<size_t>(all_lens[i]) &&
                 std::fputc('\n', f) != EOF;
    }
  }
  DIVREC_CHECK(next == mine.size(), "dump lists: user ids beyond num_users ", num_users);
  if (!root) return;
  write_ok = write_ok && std::fflush(f) == 0;
  const int err = errno;
  write_ok = std::fclose(file.release()) == 0 && write_ok;
  DIVREC_CHECK(write_ok, "--dump-lists: writing '", tmp, "' failed: ", std::strerror(err));
  core::commit_file(tmp, path);
  committed = true;
}

}  // namespace divrec::eval
