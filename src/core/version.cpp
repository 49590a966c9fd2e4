#include "etuner/version.h"

namespace etuner {
std::string version() { return ETUNER_VERSION; }
std::string git_describe() { return ETUNER_GIT; }
}  // namespace etuner
