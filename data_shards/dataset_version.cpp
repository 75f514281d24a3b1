// commit_items_version (see dataset_version.h). Order matters for crash safety: the new item
// table and the copy of the old manifest are complete and fsynced before manifest.h5 is renamed;
// until that rename every reader sees the old version.
#include "data_shards/dataset_version.h"

#include <fmt/format.h>

#include <cstdio>

#include "core/check.h"
#include "core/fs.h"
#include "data_shards/files.h"

namespace divrec::data {

std::string items_version_file(int64_t version) { return fmt::format("items-v{:04d}.h5", version); }
std::string manifest_version_file(int64_t version) {
  return fmt::format("manifest-v{:04d}.h5", version);
}

Manifest commit_items_version(const std::string& dir, const Manifest& current,
                              const ItemTable& items, const std::string& command) {
  const std::string manifest_path = dir + "/" + kManifestFile;
  const std::string old_bytes = core::read_file(manifest_path);
  Manifest on_disk = read_manifest_file(manifest_path);
  DIVREC_CHECK_HINT(on_disk.dataset_version == current.dataset_version &&
                        on_disk.items_crc32 == current.items_crc32 &&
                        on_disk.items_file == current.items_file,
                    "run the command again", manifest_path,
                    " changed while the new version was being made (another process?)");
  Manifest next = current;
  next.dataset_version = current.dataset_version + 1;
  next.items_file = items_version_file(next.dataset_version);
  next.previous_manifest = manifest_version_file(current.dataset_version);
  next.version_command = command;
  next.content_dim = items.content_dim;

  const std::string items_path = dir + "/" + next.items_file;
  const std::string items_tmp = core::temp_path_for(items_path);
  try {
    write_items_file(items_tmp, items);
    next.items_crc32 = core::crc32_file(items_tmp);
    core::commit_file(items_tmp, items_path);
  } catch (...) {
    std::remove(items_tmp.c_str());
    throw;
  }
  core::write_file_atomic(dir + "/" + next.previous_manifest, old_bytes);
  const std::string manifest_tmp = core::temp_path_for(manifest_path);
  try {
    write_manifest_file(manifest_tmp, next, items);
    core::commit_file(manifest_tmp, manifest_path);
  } catch (...) {
    std::remove(manifest_tmp.c_str());
    throw;
  }
  return next;
}

}  // namespace divrec::data
