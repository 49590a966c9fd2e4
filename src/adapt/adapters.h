// Factories of the built-in adapters; the table in builtin.cpp lists them by name.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>

#include "etuner/fields.h"
#include "etuner/policy.h"

namespace etuner::adapt {

std::unique_ptr<policy::AdaptOptions> make_none(const nlohmann::json& params);
std::unique_ptr<policy::AdaptOptions> make_bn(const nlohmann::json& params);
std::unique_ptr<policy::AdaptOptions> make_bn_ssl(const nlohmann::json& params);
std::unique_ptr<policy::AdaptOptions> make_eata(const nlohmann::json& params);

// The BatchNorm statistics fields that `bn`, `bn-ssl` and `eata` share (src/adapt/bn.cpp).
void read_statistics_fields(Fields& f, policy::AdaptOptions& a);

}  // namespace etuner::adapt
