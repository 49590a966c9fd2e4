// git_describe() is generated at build time (cmake/git_version.cmake).
#include "etuner/version.h"

namespace etuner {
std::string version() { return ETUNER_VERSION; }
}  // namespace etuner
