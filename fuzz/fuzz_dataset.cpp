// Dataset directory readers fed a mutated manifest, item table or shard: every path a job takes
// (read_manifest, read_item_table, read_all_users, read_sequence_lengths, validate_dataset).
// Checksums are verified before HDF5 opens a file, so a mutated file must be rejected with a
// divrec::Error and libhdf5 never parses it (fuzz_h5_raw covers what happens without them).
#include "data_shards/reader.h"
#include "data_shards/validate.h"
#include "fuzz/dataset_template.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  divrec::fuzz::dataset_template("dataset");  // also writes the seeds when asked to
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace divrec;
  const std::string dir = fuzz::scratch_dir() + "/dataset";
  fuzz::with_mutated_file(dir, fuzz::dataset_template("dataset"), data, size, [&] {
    data::read_manifest(dir);
    data::read_item_table(dir);
    data::read_all_users(dir);
    data::read_sequence_lengths(dir);
    data::validate_dataset(dir);
  });
  return 0;
}
