-- PVeRA: probabilistic VeRA with sampled scaling vectors.
local peft = require "peft"
local rules = require "peft.rules"

local PveraConfig = peft.declare_config {
  name = "PveraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.PVERA,
  doc = "PVeRA: probabilistic VeRA with sampled scaling vectors.",
  fields = function() return {
    { "r", "int", 256,
      "Rank of the shared random projections; can be far larger than a LoRA rank." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Linear modules to adapt: names matched exactly or as a suffix, a regex, or 'all-linear'.",
      set = true },
    { "projection_prng_key", "int", 0,
      "Seed that regenerates the shared projections pvera_A and pvera_B." },
    { "save_projection", "bool", true,
      "Whether to store pvera_A and pvera_B in the checkpoint rather than rebuild them from the seed." },
    { "pvera_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers." },
    { "d_initial", "float", 0.1,
      "Starting value of the lambda_d scaling vector; small values (0.1 or less) work best." },
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'pvera_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "init_weights", "bool", true,
      "Whether to use PVeRA's default initialisation (leave it on unless you know why)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Layer indices to adapt (one or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name of the layer list (e.g. 'layers' or 'h') that layers_to_transform indexes into." },
    { "sample_at_inference", "bool", false,
      "Whether to draw from the learned distribution at inference instead of using its mean." },
    { "generator_seed", "Optional[int]", nil,
      "Seed of the random generator used when sampling from the learned distribution." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    if not self.save_projection then
      chk.warn("save_projection is false: pvera_A and pvera_B are left out of the checkpoint and rebuilt "
        .. "from projection_prng_key (%d) on load, which may differ across systems; "
        .. "set save_projection = true to be safe", self.projection_prng_key)
    end
  end,
}

local PveraModel = peft.declare_model { name = "PveraModel", prefix = "pvera_lambda_" }

peft.register_peft_method {
  name = "pvera",
  config_cls = PveraConfig,
  model_cls = PveraModel,
  prefix = "pvera_lambda_",
  is_mixed_compatible = false,
}

return PveraConfig
