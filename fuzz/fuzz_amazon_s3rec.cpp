// amazon-s3rec converter: NAME.txt ("user item item ..."), NAME_item2attributes.json and an
// optional NAME.abs_time.inter, as three parts of one input (fuzz_util.h, kPartSeparator).
#include "data_shards/convert/converters.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace divrec;
  auto parts = fuzz::split_parts(data, size, 3);
  const std::string dir = fuzz::scratch_dir() + "/s3rec";
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir + "/F.abs_time.inter");
  fuzz::write_file("s3rec/F.txt", parts[0]);
  fuzz::write_file("s3rec/F_item2attributes.json", parts.size() > 1 ? parts[1] : "{}");
  if (parts.size() > 2) fuzz::write_file("s3rec/F.abs_time.inter", parts[2]);
  for (bool allow_missing : {false, true}) {
    fuzz::expect_clean([&] {
      data::AmazonS3RecOptions o;
      o.input = dir;
      o.allow_missing_attributes = allow_missing;
      data::convert_amazon_s3rec(o);
    });
  }
  return 0;
}
