// Native bf16 on this CPU, from /proc/cpuinfo (see cpu_bf16.h).
#include "trainer/model/cpu_bf16.h"

#include <fstream>
#include <sstream>

namespace divrec::model {

bool cpuinfo_has_native_bf16(const std::string& cpuinfo) {
  std::istringstream lines(cpuinfo);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("flags", 0) != 0) continue;  // "flags\t\t: fpu vme ..."
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream words(line.substr(colon + 1));
    std::string flag;
    while (words >> flag) {
      if (flag == "avx512_bf16" || flag == "amx_bf16") return true;
    }
  }
  return false;
}

bool cpu_has_native_bf16() {
  static const bool has = [] {
    std::ifstream in("/proc/cpuinfo");
    if (!in) return false;
    std::stringstream text;
    text << in.rdbuf();
    return cpuinfo_has_native_bf16(text.str());
  }();
  return has;
}

std::string bf16_cpu_warning(Precision precision, const torch::Device& device,
                             std::optional<bool> native_bf16) {
  if (precision != Precision::kBf16 || !device.is_cpu()) return "";
  if (native_bf16 ? *native_bf16 : cpu_has_native_bf16()) return "";  // read only here
  return "warning: --precision bf16 on a CPU without native bf16 (no avx512_bf16 / amx_bf16 in "
         "/proc/cpuinfo): oneDNN emulates the bf16 products, so steps run several times slower "
         "than fp32 (6-18x measured on an AVX2-only EPYC); use --precision fp32 here";
}

}  // namespace divrec::model
