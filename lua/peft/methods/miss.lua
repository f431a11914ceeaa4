-- MiSS: matrix shard sharing (the successor of Bone).
local peft = require "peft"
local rules = require "peft.rules"

local MissConfig = peft.declare_config {
  name = "MissConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.MISS,
  doc = "MiSS: matrix shard sharing (the successor of Bone).",
  fields = function() return {
    { "r", "int", 64,
      "Shard size along the input dimension (an even value is needed by the default initialisation)." },
    { "miss_dropout", "float", 0.0, "Dropout probability on the input of the MiSS branch." },
    { "mini_r", "int", 1,
      "Shard size along the output dimension for init_weights='mini' (should divide out_features)." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, a regex matched in full, or 'all-linear'.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "init_weights", "bool | Literal['bat', 'mini']", true,
      "MiSS variant: true (balanced, the default), 'bat' (non-linear across shards) or 'mini' (uses mini_r)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Only adapt the layers with these indices (one index or a list)." },
    { "layers_pattern", "Optional[str]", nil,
      "Name of the module list holding the layers (e.g. 'layers', 'h'); used with layers_to_transform." },
    { "bias", "str", "none", "Which biases to train: 'none', 'all' or 'MiSS_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
  } end,
  post_init = function(self, chk)
    rules.regex_excludes_layers(self, chk)
  end,
}

local MissModel = peft.declare_model { name = "MissModel", prefix = "miss_" }

peft.register_peft_method {
  name = "miss",
  config_cls = MissConfig,
  model_cls = MissModel,
  prefix = "miss_",
  is_mixed_compatible = false,
}

return MissConfig
