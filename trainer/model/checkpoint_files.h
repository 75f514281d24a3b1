// Checkpoint files on disk. File = payload (a torch OutputArchive) + 24-byte footer:
// "DIVRECK1", payload length (uint64 little-endian), CRC-32 of the payload (uint32 LE, zlib's,
// so Python's zlib.crc32 agrees), 4 zero bytes. Written atomically; which file to resume from.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace divrec::model {

inline constexpr char kCheckpointMagic[] = "DIVRECK1";
inline constexpr size_t kCheckpointFooterBytes = 24;

struct CheckpointCheck {
  bool ok = false;
  std::string reason;  // why not, for messages
};
// Footer + checksum only (reads the whole file once).
CheckpointCheck verify_checkpoint_file(const std::string& path);
// Payload bytes of a verified file; throws naming the file and the problem otherwise.
std::string read_checkpoint_payload(const std::string& path);
// Payload + footer.
std::string frame_checkpoint(std::string payload);
// Temp file beside path, written fully, fsynced, renamed. On failure (ENOSPC, EFBIG, ...) the
// temp file is removed, `path` is untouched, and the error says what happened.
void write_checkpoint_file(const std::string& path, const std::string& bytes);

// ckpt-*.pt files of a checkpoints directory, sorted by step (oldest first).
std::vector<std::string> list_checkpoints(const std::string& checkpoints_dir);

// Resume target. run_dir_or_file is a file: that file (throws if it fails verification). A
// directory (run dir or its checkpoints/ dir): mode "auto" gives the newest VALID ckpt-*.pt,
// logging every corrupt newer one and why; "" when there is none. mode "none" gives "".
std::string find_resume_checkpoint(const std::string& run_dir_or_file,
                                   const std::string& mode = "auto");

// For --init-from / evaluation: a run directory (or its checkpoints/) means its best.pt, else
// its newest valid checkpoint; a file means that file. Throws when nothing usable is found.
std::string resolve_checkpoint_arg(const std::string& path);

}  // namespace divrec::model
