// etuner serve: the long-lived service (docs/serve.md). Runs until SIGTERM or SIGINT, then
// stops gracefully (finishes and commits the round in progress) and exits 0.
#include <signal.h>

#include <fstream>
#include <iostream>
#include <regex>

#include "commands.h"
#include "etuner/error.h"
#include "etuner/serve.h"

namespace etuner::cli {
namespace {

struct ServeFlags {
  serve::ServeConfig cfg;
  std::string input = "3x32x32";
  size_t max_body_kb = 4096;
  int64_t max_store_mb = 1024;
  std::string port_file;
  std::string token_file;
};

void parse_input(const std::string& text, serve::ServeConfig& cfg) {
  std::smatch m;
  if (!std::regex_match(text, m, std::regex(R"((\d{1,4})x(\d{1,5})x(\d{1,5}))")))
    throw ConfigError("--input: expected CxHxW, e.g. 1x28x28 (got '" + text + "')");
  cfg.channels = std::stoi(m[1]);
  cfg.height = std::stoi(m[2]);
  cfg.width = std::stoi(m[3]);
}

// The token is the file's first line; a file readable by others is the operator's choice.
std::string read_token(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token)) throw ConfigError("--token-file: cannot read " + path);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) throw ConfigError("--token-file: " + path + " starts with an empty line");
  return token;
}

void check_policy(const std::string& p) {
  if (p.find(',') != std::string::npos)
    throw ConfigError("--policies: serve runs one policy (got '" + p + "')");
}

void write_port_file(const std::string& path, int port) {
  if (path.empty()) return;
  const std::string tmp = path + ".tmp";  // renamed: a reader never sees a partial number
  std::ofstream(tmp) << port << "\n";
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw IoError("--port-file: cannot write " + path);
}

// SIGTERM/SIGINT are blocked in every thread (the mask is inherited) and taken here by
// sigwait, so shutdown runs as ordinary code rather than in a signal handler.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

void run(ServeFlags& f) {
  parse_input(f.input, f.cfg);
  check_policy(f.cfg.policy);
  f.cfg.max_body_bytes = f.max_body_kb * 1024;
  f.cfg.max_store_bytes = f.max_store_mb << 20;
  f.cfg.auth_token = read_token(f.token_file);
  const sigset_t stop_signals = block_stop_signals();
  serve::Server server(f.cfg);
  const int port = server.start();
  write_port_file(f.port_file, port);
  std::cout << "etuner serve: listening on http://" << f.cfg.host << ":" << port
            << " (model version " << server.model_version() << ", data dir " << f.cfg.data_dir
            << ")" << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  if (!f.cfg.quiet) std::cerr << "etuner serve: signal " << sig << ", stopping\n";
  server.stop();
  if (!f.cfg.quiet)
    std::cerr << "etuner serve: stopped at model version " << server.model_version() << "\n";
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto f = std::make_shared<ServeFlags>();
  auto& c = f->cfg;
  auto* cmd = app.add_subcommand("serve", "serve predictions and fine-tune in the background");
  cmd->add_option("--model", c.model,
                  "zoo name (tiny, smallcnn, resnet20, mobilenetv2) or TorchScript file")
      ->required();
  cmd->add_option("--stream-spec", c.stream_spec,
                  "stream spec: its pretrained model, classes, input shape and train settings");
  cmd->add_option("--data", c.data_root, "dataset root, overrides the spec's data.root");
  cmd->add_option("--classes", c.classes, "number of classes (instead of --stream-spec)");
  cmd->add_option("--input", f->input, "input shape CxHxW with --classes")->capture_default_str();
  cmd->add_option("--policies", c.policy, "the policy (one preset or <scheduler>+<freezer>)")
      ->capture_default_str();
  cmd->add_option("--params", c.policy_params,
                  "policy parameters per scheduler/freezer as in bench, e.g. "
                  "'{\"lazytune\":{\"max_merge\":8}}'");
  cmd->add_option("--device", c.device,
                  "cpu or cuda: where rounds and answers run (checkpoints are portable)")
      ->capture_default_str();
  cmd->add_option("--data-dir", c.data_dir, "directory for samples.db and checkpoints/ (required)")
      ->required();
  cmd->add_option("--host", c.host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", c.port, "TCP port (0: any free port)")->capture_default_str();
  cmd->add_option("--port-file", f->port_file, "write the bound port to this file once listening");
  cmd->add_option("--threads", c.torch_threads, "LibTorch intra-op threads")->capture_default_str();
  cmd->add_option("--trainer-nice", c.trainer_nice, "nice increment of the trainer thread (0-19)")
      ->capture_default_str();
  cmd->add_flag("--trainer-idle", c.trainer_idle,
                "run rounds under SCHED_IDLE: only on CPU time requests leave idle");
  cmd->add_option("--max-inflight", c.max_inflight, "concurrent predict/sample requests before 503")
      ->capture_default_str();
  cmd->add_option("--max-body-kb", f->max_body_kb, "largest request body (KiB) before 413")
      ->capture_default_str();
  cmd->add_option("--max-connections", c.max_connections,
                  "connections served at once (slow ones included)")
      ->capture_default_str();
  cmd->add_option("--request-timeout", c.request_timeout_s,
                  "seconds a client has to send a whole request (headers and body)")
      ->capture_default_str();
  cmd->add_option("--max-stored-samples", c.max_stored_samples,
                  "samples the store keeps before /v1/samples answers 507")
      ->capture_default_str();
  cmd->add_option("--max-store-mb", f->max_store_mb, "samples.db size (MiB) before 507")
      ->capture_default_str();
  cmd->add_option("--token-file", f->token_file,
                  "file whose first line is the token every route but /healthz requires");
  cmd->add_flag("--insecure", c.insecure, "allow a non-loopback --host without --token-file");
  cmd->add_option("--max-queue-samples", c.max_queue_samples,
                  "untrained samples held in memory; more wait in samples.db")
      ->capture_default_str();
  cmd->add_option("--batch-samples", c.batch_samples,
                  "samples per labeled batch given to the runtime")
      ->capture_default_str();
  cmd->add_option("--batch-wait", c.batch_wait_s, "seconds before a partial batch is given anyway")
      ->capture_default_str();
  cmd->add_option("--adapt-publish-s", c.adapt_publish_s,
                  "seconds between commits of the adapter's copy when no round commits it "
                  "(0: with rounds only)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--device-profile", c.device_profile, "device profile for modeled joules")
      ->capture_default_str();
  cmd->add_option("--seed", c.seed, "seed of a fresh model and of training")->capture_default_str();
  cmd->add_flag("--quiet", c.quiet, "no log lines on stderr");
  cmd->callback([f]() { run(*f); });
}

}  // namespace etuner::cli
