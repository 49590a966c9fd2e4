// etuner pretrain: train (or fetch from the cache) the deployed model of a stream.
#include <iostream>

#include "commands.h"
#include "etuner/harness.h"

namespace etuner::cli {
namespace {

struct PretrainFlags {
  std::string stream;
  std::string data_root;
  int threads = 0;
  harness::PretrainOptions o;
};

}  // namespace

void add_pretrain_command(CLI::App& app) {
  auto f = std::make_shared<PretrainFlags>();
  auto* cmd = app.add_subcommand("pretrain", "train the stream's deployed model and cache it");
  cmd->add_option("--stream", f->stream, "stream spec (JSON)")->required();
  cmd->add_option("--data", f->data_root, "dataset root, overrides the spec's data.root");
  cmd->add_option("--threads", f->threads, "LibTorch threads (default: all cores)");
  cmd->add_option("--device", f->o.device, "cpu or cuda")->capture_default_str();
  cmd->add_option("--cache-dir", f->o.cache_dir,
                  "cache directory (default $ETUNER_CACHE or ~/.cache/etuner)");
  cmd->add_flag("--quiet", f->o.quiet, "no progress on stderr");
  cmd->callback([f]() {
    harness::set_threads(f->threads);
    const auto spec = harness::load_spec_with(f->stream, f->data_root, nullptr);
    const auto splits = data::load(spec.data.source, spec.data.root);
    harness::pretrained_model(spec, splits, f->o);
    std::cout << harness::pretrain_cache_path(spec, splits, f->o) << "\n";
  });
}

}  // namespace etuner::cli
