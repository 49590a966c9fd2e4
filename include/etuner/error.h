// etuner errors: exceptions when an operation cannot continue.
//
//   throw etuner::ConfigError("stream.train.lr: must be > 0");
//
// The CLI maps each kind to its exit code in one place (exit_code below, used by
// tools/etuner/main.cpp): usage 2, data 3, device 4; anything else is a bug and exits 1.
// Expected outcomes (a scheduler that declines) are values, never exceptions.
#pragma once
#include <stdexcept>
#include <string>

namespace etuner {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual const char* kind() const noexcept { return "error"; }
};

// A spec, flag or parameter is invalid: the message names the field.
class ConfigError : public Error {
 public:
  using Error::Error;
  const char* kind() const noexcept override { return "config"; }
};

// A file or directory is missing or unreadable: the message names the path and the fix.
class IoError : public Error {
 public:
  using Error::Error;
  const char* kind() const noexcept override { return "io"; }
};

// A model cannot be built, loaded or run as asked.
class ModelError : public Error {
 public:
  using Error::Error;
  const char* kind() const noexcept override { return "model"; }
};

// The requested device (cuda, a meter backend) is unavailable.
class DeviceError : public Error {
 public:
  using Error::Error;
  const char* kind() const noexcept override { return "device"; }
};

// Exit codes of the CLI, per kind of error (README, "Exit codes").
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,  // a bug: anything not an etuner::Error
  kExitUsage = 2,     // a flag, spec field or parameter is invalid (ConfigError, CLI parsing)
  kExitData = 3,      // a file, data set or model cannot be read or used (IoError, ModelError)
  kExitDevice = 4,    // the device or a meter asked for is unavailable (DeviceError)
};

inline int exit_code(const Error& e) noexcept {
  const std::string k = e.kind();
  if (k == "config") return kExitUsage;
  if (k == "io" || k == "model") return kExitData;
  if (k == "device") return kExitDevice;
  return kExitUsage;  // a plain etuner::Error: the user asked for something that cannot be
}

}  // namespace etuner
