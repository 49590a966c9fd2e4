#include "harness/results.h"

#include <sys/utsname.h>
#include <torch/version.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <thread>

#include "etuner/csv.h"
#include "etuner/device_profile.h"
#include "etuner/error.h"
#include "etuner/version.h"

namespace etuner::harness {
namespace {

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

nlohmann::json machine(const RunContext& ctx) {
  utsname u{};
  uname(&u);
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return {{"hostname", host},
          {"cpus", std::thread::hardware_concurrency()},
          {"os", std::string(u.sysname) + " " + u.release + " " + u.machine},
          {"torch", TORCH_VERSION},
          {"device", ctx.device},
          {"threads", ctx.threads}};
}

bool scored(const Answer& a) { return a.label >= 0; }  // a recorded stream's unlabeled rows

std::vector<double> per_scenario_accuracy(const PolicyRun& run, size_t scenarios) {
  std::vector<double> correct(scenarios, 0), total(scenarios, 0);
  for (const auto& a : run.answers) {
    if (!scored(a)) continue;
    total[a.scenario] += 1;
    correct[a.scenario] += a.prediction == a.label;
  }
  std::vector<double> out;
  for (size_t s = 0; s < scenarios; ++s) out.push_back(total[s] ? correct[s] / total[s] : 0.0);
  return out;
}

template <typename F>
double mean_over_answers(const PolicyRun& run, F value) {
  if (run.answers.empty()) return 0;
  double sum = 0;
  for (const auto& a : run.answers) sum += value(a);
  return sum / run.answers.size();
}

double average_accuracy(const PolicyRun& run) {
  double correct = 0, total = 0;
  for (const auto& a : run.answers) {
    total += scored(a);
    correct += scored(a) && a.prediction == a.label;
  }
  return total > 0 ? correct / total : 0.0;
}

int64_t scored_requests(const PolicyRun& run) {
  int64_t n = 0;
  for (const auto& a : run.answers) n += scored(a);
  return n;
}

// Scenario s's shift and severity: the spec's, or none for a recorded stream's.
nlohmann::json scenario_json(const stream::StreamSpec& spec, const stream::Timeline& tl, size_t s) {
  const bool generated = s < spec.scenarios.size();
  return {{"index", s},
          {"name", tl.spans[s].name},
          {"shift", generated ? spec.scenarios[s].shift : "none"},
          {"severity", generated ? spec.scenarios[s].severity : 0},
          {"start_s", tl.spans[s].start_s},
          {"end_s", tl.spans[s].end_s}};
}

// How far behind the labels the answering versions were, averaged over requests: staleness
// in data, the cost of training late (realtime) or of not training (lazy schedulers).
double mean_lag_samples(const PolicyRun& run) {
  return mean_over_answers(run, [](const Answer& a) { return static_cast<double>(a.lag_samples); });
}

// Realtime runs have idle stream time between rounds; instant runs have none by definition.
double idle_energy(const PolicyRun& run, const stream::StreamSpec& spec,
                   const stream::Timeline& tl) {
  if (spec.protocol.mode != Protocol::kRealtime) return 0;
  const auto& p = device_profile(spec.protocol.device);
  return std::max(0.0, tl.end_s - run.totals.modeled_s) * p.idle_power_w;
}

}  // namespace

nlohmann::json policy_summary(const PolicyRun& run, const stream::StreamSpec& spec,
                              const stream::Timeline& tl, const std::string& energy_source) {
  const auto& t = run.totals;
  return {{"avg_inference_accuracy", average_accuracy(run)},
          {"per_scenario_accuracy", per_scenario_accuracy(run, tl.spans.size())},
          {"requests", run.answers.size()},
          {"scored_requests", scored_requests(run)},
          {"mean_lag_samples", mean_lag_samples(run)},
          {"finetune_seconds", t.finetune_s},
          {"modeled_finetune_seconds", t.modeled_s},
          {"modeled_finetune_energy_joules", t.modeled_j},
          {"finetune_energy_joules", t.finetune_j},
          {"energy_source", energy_source},
          {"inference_energy_joules", t.inference_j},
          {"inference_seconds", t.inference_s},
          {"idle_energy_joules", idle_energy(run, spec, tl)},
          {"idle_energy_source", "modeled"},
          {"rounds", t.rounds},
          {"samples_trained", t.samples_trained},
          {"prefix_cache_hits", t.cache_hits},
          {"train_flops", t.train_flops},
          {"decision_flops", t.decision_flops},
          {"decision_flops_by_kind",
           {{"test_then_train", t.decision_by_kind.test_then_train},
            {"batchnorm", t.decision_by_kind.batchnorm},
            {"probes", t.decision_by_kind.probes},
            {"adaptation_steps", t.decision_by_kind.adaptation_steps}}},
          {"decision_seconds", t.decision_s},
          {"similarity_seconds", t.similarity_s},
          {"adapt_seconds", t.adapt_s},
          {"drifts_detected", t.drifts},
          {"recalls", t.recalls},
          {"shelf_bytes", t.shelf_bytes},
          {"pseudo_labeled", t.pseudo_labeled},
          {"peak_rss_mb", run.peak_rss_mb},
          {"scheduler", run.scheduler},
          {"freezer", run.freezer},
          {"adapter", run.adapter},
          {"description", run.description}};
}

nlohmann::json results_json(const stream::StreamSpec& spec, const stream::Timeline& tl,
                            const RunContext& ctx, const nlohmann::json& policies) {
  nlohmann::json scenarios = nlohmann::json::array();
  for (size_t s = 0; s < tl.spans.size(); ++s) scenarios.push_back(scenario_json(spec, tl, s));
  return {{"schema_version", kResultsSchemaVersion},
          {"stream", spec.name},
          {"model", ctx.model_name},
          {"protocol", to_string(spec.protocol.mode)},
          {"device_profile", spec.protocol.device},
          {"command", ctx.command},
          {"etuner_version", version()},
          {"git", git_describe()},
          {"created_utc", utc_now()},
          {"machine", machine(ctx)},
          {"spec", spec.json},
          {"scenarios", scenarios},
          {"num_blocks", ctx.num_blocks},
          {"policies", policies}};
}

void write_requests_csv(const std::string& path, const std::vector<PolicyRun>& runs) {
  std::ofstream out(path);
  if (!out) throw IoError(path + ": cannot write");
  out << "policy,request,time_s,scenario,label,prediction,correct,confidence,model_version,lag_"
         "samples\n";
  for (const auto& r : runs)
    for (const auto& a : r.answers)
      out << csv_field(r.name) << "," << a.request << "," << a.time_s << "," << a.scenario << ","
          << (scored(a) ? std::to_string(a.label) : "") << "," << a.prediction << ","
          << (scored(a) ? std::to_string(a.prediction == a.label) : "") << "," << a.confidence
          << "," << a.version << "," << a.lag_samples << "\n";
}

void write_rounds_csv(const std::string& path, const std::vector<PolicyRun>& runs) {
  std::ofstream out(path);
  if (!out) throw IoError(path + ": cannot write");
  out << "policy,round,start_s,end_s,scenario,samples,steps,epochs,frozen_prefix,frozen_mask,"
         "wall_s,modeled_s,energy_j,train_flops,loss,fresh_samples,replay_samples,discarded,"
         "reason,freeze_reason\n";
  for (const auto& run : runs)
    for (const auto& r : run.rounds)
      out << csv_field(run.name) << "," << r.round << "," << r.start_s << "," << r.end_s << ","
          << r.scenario << "," << r.samples << "," << r.steps << "," << r.epochs << ","
          << r.frozen_prefix << "," << r.frozen_mask << "," << r.wall_s << "," << r.modeled_s << ","
          << r.energy_j << "," << r.train_flops << "," << r.loss << "," << r.fresh_samples << ","
          << r.replay_samples << "," << r.discarded << "," << csv_field(r.reason) << ","
          << csv_field(r.freeze_reason) << "\n";
}

}  // namespace etuner::harness
