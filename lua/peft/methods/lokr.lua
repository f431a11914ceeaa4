-- LoKr: low-rank Kronecker product adaptation (LyCORIS).
local peft = require "peft"
local lycoris = require "peft.lycoris"
local rules = require "peft.rules"

local LoKrConfig = peft.declare_config {
  name = "LoKrConfig",
  parent = lycoris.LycorisConfig,
  peft_type = peft.PeftType.LOKR,
  doc = "LoKr: low-rank Kronecker product adaptation (LyCORIS).",
  fields = function() return {
    { "r", "int", 8, "Rank of the low-rank factorisation inside the Kronecker product." },
    { "alpha", "int", 8, "Scaling numerator: the update is scaled by alpha / r.", number = true },
    { "rank_dropout", "float", 0.0, "Training-time dropout probability applied along the rank dimension." },
    { "module_dropout", "float", 0.0, "Training-time probability of skipping a whole LoKr module." },
    { "use_effective_conv2d", "bool", false,
      "Whether convolutions with kernel size > 1 use the parameter-efficient (FedPara) decomposition." },
    { "decompose_both", "bool", false,
      "Whether the left Kronecker factor is also decomposed into a low-rank product." },
    { "decompose_factor", "int", -1,
      "Factor used to split the weight shape between the two Kronecker factors (-1: automatic)." },
    { "rank_dropout_scale", "bool", false, "Whether rank dropout rescales the kept entries during training." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, a regex matched in full, or 'all-linear'.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "init_weights", "Union[bool, Literal['lycoris']]", true,
      "Adapter initialisation: true (starts as a no-op), 'lycoris' (LyCORIS-style) or false (discouraged)." },
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

local LoKrModel = peft.declare_model { name = "LoKrModel", prefix = "lokr_" }

peft.register_peft_method {
  name = "lokr",
  config_cls = LoKrConfig,
  model_cls = LoKrModel,
  prefix = "lokr_",
  is_mixed_compatible = true,
}

return LoKrConfig
