-- DeLoRA: decoupled low-rank adaptation with a bounded, normalised update.
local peft = require "peft"
local rules = require "peft.rules"

local DeloraConfig = peft.declare_config {
  name = "DeloraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.DELORA,
  doc = "DeLoRA: decoupled low-rank adaptation with a bounded, normalised update.",
  fields = function() return {
    { "r", "int", 8, "Rank of the DeLoRA update (a positive integer)." },
    { "delora_lambda", "int", 15,
      "Initial bound on the Frobenius norm of the weight update (learned during training).", number = true },
    { "module_dropout", "float", 0.0, "Training-time probability of skipping a whole DeLoRA module." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, a regex matched in full, or 'all-linear'.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "bias", "Literal['none', 'all', 'delora_only']", "none",
      "Which biases to train: 'none', 'all' or 'delora_only'." },
    { "init_weights", "bool", true,
      "Whether the adapter starts as a no-op (B = 0); false makes both factors random (discouraged)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Only adapt the layers with these indices (one index or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name(s) of the module list holding the layers (e.g. 'layers', 'h'); used with layers_to_transform." },
    { "rank_pattern", "Optional[dict]", {},
      "Per-module rank overrides: module name or regex -> rank used instead of r." },
    { "lambda_pattern", "Optional[dict]", {},
      "Per-module bound overrides: module name or regex -> value used instead of delora_lambda." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
  } end,
  post_init = function(self, chk)
    rules.regex_excludes_layers(self, chk, { "layers_to_transform" })
    rules.pattern_needs_layers(self, chk)
    if self.r <= 0 then
      chk.fail_value("r", "must be a positive integer")
    end
  end,
}

local DeloraModel = peft.declare_model { name = "DeloraModel", prefix = "delora_" }

peft.register_peft_method {
  name = "delora",
  config_cls = DeloraConfig,
  model_cls = DeloraModel,
  prefix = "delora_",
  is_mixed_compatible = false,
}

return DeloraConfig
