// The HDF5 readers WITHOUT the checksum gate: read_items_file / read_shard_file / the
// manifest's groups on mutated bytes, i.e. libhdf5's own parser plus divrec's structural
// checks. Crashes inside libhdf5 are recorded in docs/results.md ("Hardening"), not fixed here;
// this target is left out of the CI `fuzz` label for that reason (scripts/fuzz.sh runs it).
#include "data_shards/files.h"
#include "data_shards/h5.h"
#include "fuzz/dataset_template.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  divrec::fuzz::dataset_template("raw");  // also writes the seeds when asked to
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace divrec;
  if (size == 0) return 0;
  const std::string path =
      fuzz::write_file("raw.h5", {reinterpret_cast<const char*>(data) + 1, size - 1});
  fuzz::expect_clean([&] {
    switch (data[0] % 4) {
      case 0: {  // the manifest's groups as plain HDF5 (a header, when present, still checked)
        auto f = data::h5::File::open_divrec(path, "manifest");
        f.attr_int("num_users");
        f.open_group("id_maps").read_strings("users");
        data::h5::read_vector<uint32_t>(f.open_group("shards"), "crc32");
        break;
      }
      case 1:
        data::read_items_file(path);
        break;
      default:
        data::read_shard_file(path);
    }
  });
  return 0;
}
