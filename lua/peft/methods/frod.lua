-- FRoD: full-rank efficient adaptation via rotational degrees of freedom.
local peft = require "peft"
local rules = require "peft.rules"

local FrodConfig = peft.declare_config {
  name = "FrodConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.FROD,
  doc = "FRoD: full-rank efficient adaptation via rotational degrees of freedom.",
  fields = function() return {
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Linear modules to adapt: names matched exactly or as a suffix, or a regex matched in full.",
      set = true },
    { "projection_prng_key", "int", 0,
      "Seed that lays out the sparse (COO) pattern of the trainable rotation." },
    { "save_projection", "bool", true,
      "Whether to store the projection tensors in the checkpoint rather than rebuild them on load." },
    { "frod_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers." },
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'frod_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "init_weights", "bool", true,
      "Whether to use FRoD's default initialisation (leave it on unless you know why)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Layer indices to adapt (one or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name of the layer list (e.g. 'layers' or 'h') that layers_to_transform indexes into." },
    { "sparse_rate", "float", 0.01,
      "Fraction (0 to 1) of off-diagonal entries of the rotation that are trained.",
      check = function(v)
        if v < 0 or v > 1 then return "must be between 0 and 1" end
      end },
    { "regularization_alpha", "float", 1e-3,
      "Small positive ridge term that keeps the matrix inverse stable when building the shared basis." },
    { "progressbar", "bool", true,
      "Whether to show progress while the projections are computed (slow on large models)." },
    { "runtime_offload_base_weight", "bool", false,
      "Whether to keep base weights on the CPU when the active FRoD path does not need them." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    -- sparse_rate is checked per field above.
  end,
}

local FrodModel = peft.declare_model { name = "FrodModel", prefix = "frod_" }

peft.register_peft_method {
  name = "frod",
  config_cls = FrodConfig,
  model_cls = FrodModel,
  prefix = "frod_",
  is_mixed_compatible = false,
}

return FrodConfig
