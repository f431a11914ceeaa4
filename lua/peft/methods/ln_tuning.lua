-- LN tuning: fine-tunes only the LayerNorm parameters.
local peft = require "peft"

local LNTuningConfig = peft.declare_config {
  name = "LNTuningConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.LN_TUNING,
  doc = "LN tuning: fine-tunes only the LayerNorm parameters.",
  fields = function() return {
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "LayerNorm modules to tune (names or a regex); chosen from the model architecture when null." },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to tune: names (exact or suffix) or a regex." },
    { "modules_to_save", "Optional[Union[list[str], str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
  } end,
  -- PEFT's __post_init__ only sets peft_type; the module lists are kept as given.
}

local LNTuningModel = peft.declare_model { name = "LNTuningModel", prefix = "ln_tuning_" }

peft.register_peft_method {
  name = "ln_tuning",
  config_cls = LNTuningConfig,
  model_cls = LNTuningModel,
  prefix = "ln_tuning_",
  is_mixed_compatible = false,
}

return LNTuningConfig
