// etuner errors: exceptions when an operation cannot continue.
//
//   throw etuner::ConfigError("stream.train.lr: must be > 0");
//
// The CLI maps errors to exit codes in one place (tools/etuner/main.cpp, `exit_code`): 2 for
// what the caller's input can fix (config, io, model), 3 for a device that is unavailable, and
// 1 for anything else (a bug). Expected outcomes (a scheduler that declines) are values, never
// exceptions.
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

// The CLI's exit code for an error (README, "Exit codes"): 2 for usage and data (flags, spec,
// files, model: the caller can fix them), 3 for an unavailable device (retry elsewhere).
inline int exit_code(const Error& e) noexcept {
  return dynamic_cast<const DeviceError*>(&e) ? 3 : 2;
}

}  // namespace etuner
