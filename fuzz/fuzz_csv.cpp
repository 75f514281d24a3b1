// Generic CSV converter (quoted fields, "" escapes, header names or column indices, attribute
// lists) and its record splitter. The first input byte picks the delimiter and header mode.
#include "data_shards/convert/converters.h"
#include "data_shards/convert/text.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace divrec;
  if (size == 0) return 0;
  const char delims[] = {',', ';', '\t', '|'};
  const char delim = delims[data[0] & 3];
  const bool header = (data[0] & 4) != 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string> fields;
  data::split_csv(body, delim, &fields);  // one record, any bytes
  const std::string path = fuzz::write_file("input.csv", body);
  fuzz::expect_clean([&] {
    data::CsvOptions o;
    o.input = path;
    o.delimiter = delim;
    o.header = header;
    o.user_col = header ? "user" : "0";
    o.item_col = header ? "item" : "1";
    o.time_col = header ? "time" : "2";
    o.category_col = header ? "category" : "3";
    o.attributes_col = header ? "attributes" : "4";
    data::convert_csv(o);
  });
  return 0;
}
