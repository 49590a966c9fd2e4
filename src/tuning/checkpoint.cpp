#include <cstdio>
#include <filesystem>

#include "etuner/error.h"
#include "etuner/tuning.h"

namespace etuner::tuning {

// Both files are written to temporaries first, then renamed: a crash leaves either the old
// or the new checkpoint, never a torn one.
void save_checkpoint(const std::string& dir, const model::BlockModel& m,
                     torch::optim::Optimizer& opt) {
  std::filesystem::create_directories(dir);
  const std::string model_path = dir + "/model.pt", opt_path = dir + "/optimizer.pt";
  m.save(model_path + ".tmp");
  torch::save(opt, opt_path + ".tmp");
  if (std::rename((model_path + ".tmp").c_str(), model_path.c_str()) != 0 ||
      std::rename((opt_path + ".tmp").c_str(), opt_path.c_str()) != 0)
    throw IoError(dir + ": cannot write checkpoint");
}

}  // namespace etuner::tuning
