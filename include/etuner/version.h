// Build information written into every results file.
#pragma once
#include <string>

namespace etuner {
std::string version();       // "0.1.0"
std::string git_describe();  // commit the binary was built from
}  // namespace etuner
