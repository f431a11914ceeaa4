-- LoHa: low-rank Hadamard product adaptation (LyCORIS).
local peft = require "peft"
local lycoris = require "peft.lycoris"
local rules = require "peft.rules"

local LoHaConfig = peft.declare_config {
  name = "LoHaConfig",
  parent = lycoris.LycorisConfig,
  peft_type = peft.PeftType.LOHA,
  doc = "LoHa: low-rank Hadamard product adaptation (LyCORIS).",
  fields = function() return {
    { "r", "int", 8, "Rank of each of the two low-rank factor pairs." },
    { "alpha", "int", 8, "Scaling numerator: the update is scaled by alpha / r.", number = true },
    { "rank_dropout", "float", 0.0, "Training-time dropout probability applied along the rank dimension." },
    { "module_dropout", "float", 0.0, "Training-time probability of skipping a whole LoHa module." },
    { "use_effective_conv2d", "bool", false,
      "Whether convolutions with kernel size > 1 use the parameter-efficient (FedPara) decomposition." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, a regex matched in full, or 'all-linear'.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "init_weights", "bool", true,
      "Whether to initialise the adapter so that it starts as a no-op (turning this off is discouraged)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Only adapt the layers with these indices (one index or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name(s) of the module list holding the layers (e.g. 'layers', 'h'); used with layers_to_transform." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
  end,
}

local LoHaModel = peft.declare_model { name = "LoHaModel", prefix = "hada_" }

peft.register_peft_method {
  name = "loha",
  config_cls = LoHaConfig,
  model_cls = LoHaModel,
  prefix = "hada_",
  is_mixed_compatible = true,
}

return LoHaConfig
