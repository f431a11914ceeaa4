-- HiRA: Hadamard high-rank adaptation.
local peft = require "peft"
local rules = require "peft.rules"

local HiraConfig = peft.declare_config {
  name = "HiraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.HIRA,
  doc = "HiRA: Hadamard high-rank adaptation.",
  fields = function() return {
    { "r", "int", 32, "Rank of the low-rank factors A and B that are multiplied element-wise with the weight." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, a regex matched in full, or 'all-linear'.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "hira_dropout", "float", 0.0, "Dropout probability on the input of the HiRA branch." },
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "init_weights", "bool | Literal['gaussian'] | None", true,
      "Initialisation: true (B = 0, a no-op), false (random, for debugging) or 'gaussian' (rank-scaled)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Only adapt the layers with these indices (one index or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name(s) of the module list holding the layers (e.g. 'layers', 'h'); used with layers_to_transform." },
    { "rank_pattern", "Optional[dict]", {},
      "Per-module rank overrides: module name or regex -> rank used instead of r." },
  } end,
  post_init = function(self, chk)
    rules.regex_excludes_layers(self, chk)
  end,
}

local HiraModel = peft.declare_model { name = "HiraModel", prefix = "hira_" }

peft.register_peft_method {
  name = "hira",
  config_cls = HiraConfig,
  model_cls = HiraModel,
  prefix = "hira_",
  is_mixed_compatible = true,
}

return HiraConfig
