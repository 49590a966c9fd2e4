#include "logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "etuner/error.h"

namespace etuner::cli {
namespace {

// One JSON object per line; nlohmann escapes the message, so any text stays valid JSON.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const nlohmann::json line = {{"time", utc_time(msg.time)},
                                 {"level", spdlog::level::to_string_view(msg.level).data()},
                                 {"msg", std::string(msg.payload.data(), msg.payload.size())}};
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }

 private:
  static std::string utc_time(spdlog::log_clock::time_point t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    const std::time_t s = static_cast<std::time_t>(ms.count() / 1000);
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[40];
    const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms.count() % 1000));
    return buf;
  }
};

spdlog::level::level_enum parse_level(const std::string& name) {
  for (const char* valid : {"trace", "debug", "info", "warn", "error", "off"})
    if (name == valid) return spdlog::level::from_str(name);
  throw ConfigError("--log-level: '" + name +
                    "' is not one of trace, debug, info, warn, error, off");
}

}  // namespace

void add_log_options(CLI::App& app, LogOptions& o) {
  app.add_option("--log-level", o.level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("--log-format", o.format, "text (timestamped lines) or json (JSON lines)")
      ->capture_default_str();
}

void setup_logging(const LogOptions& o) {
  const auto level = parse_level(o.level);
  if (o.format != "text" && o.format != "json")
    throw ConfigError("--log-format: '" + o.format + "' is not text or json");
  auto logger =
      std::make_shared<spdlog::logger>("etuner", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (o.format == "json")
    logger->set_formatter(std::make_unique<JsonFormatter>());
  else
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);  // stderr: every line as it happens
  spdlog::set_default_logger(logger);
}

}  // namespace etuner::cli
