// Taobao converter: the input is UserBehavior.csv (user,item,category,behavior,timestamp).
#include "data_shards/convert/converters.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace divrec;
  const std::string path =
      fuzz::write_file("UserBehavior.csv", {reinterpret_cast<const char*>(data), size});
  for (std::vector<std::string> behaviors :
       {std::vector<std::string>{}, std::vector<std::string>{"buy", "cart"}}) {
    fuzz::expect_clean([&] {
      data::TaobaoOptions o;
      o.input = path;
      o.behaviors = behaviors;
      data::convert_taobao(o);
    });
  }
  return 0;
}
