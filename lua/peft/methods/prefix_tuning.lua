-- Prefix tuning: learned key/value prefixes for every attention layer.
local peft = require "peft"

local PrefixTuningConfig = peft.declare_config {
  name = "PrefixTuningConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.PREFIX_TUNING,
  doc = "Prefix tuning: learned key/value prefixes for every attention layer.",
  fields = function() return {
    { "init_weights", "Literal['zero'] | None", nil,
      "Null for random prefixes, or 'zero' so the untrained prefixes change nothing." },
    { "encoder_hidden_size", "int", nil,
      "Width of the projection network's hidden layer (used with prefix_projection)." },
    { "prefix_projection", "bool", false,
      "Whether the prefixes are produced by a two-layer projection instead of stored directly." },
  } end,
  post_init = function(self, chk)
    -- PEFT's own __post_init__ only sets peft_type.
  end,
}

local PrefixEncoder = peft.declare_model { name = "PrefixEncoder", prefix = "prefix_tuning_" }

peft.register_peft_method {
  name = "prefix_tuning",
  config_cls = PrefixTuningConfig,
  model_cls = PrefixEncoder,
  prefix = "prefix_tuning_",
  is_mixed_compatible = false,
}

return PrefixTuningConfig
