-- Lily: low-rank interconnected adaptation across layers.
local peft = require "peft"
local rules = require "peft.rules"

local LilyConfig = peft.declare_config {
  name = "LilyConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.LILY,
  doc = "Lily: low-rank interconnected adaptation across layers.",
  fields = function() return {
    { "r", "int", 32,
      "Rank of each adapter (inner width of A and B); usually a few times the LoRA rank you would use." },
    { "stride_A", "int", 1,
      "Number of consecutive layers (per target) that share one A adapter; at least 1." },
    { "num_B", "int", 2,
      "Number of B adapters shared by all layers of a target and mixed by a router; at least 2." },
    { "scaling", "float", 1.0,
      "Plain multiplier applied to the adapter output (no alpha / r)." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, or a regex matched in full.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Only adapt the layers with these indices (one index or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name of the layer list (e.g. 'layers' or 'h') used to find layer indices; needs layers_to_transform." },
    { "init_weights", "bool", true,
      "Whether to start with B at zero so the adapter is a no-op at first (turning this off is discouraged)." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    if self.stride_A < 1 then chk.fail_value("stride_A", "must be at least 1") end
    if self.num_B < 2 then
      chk.fail_value("num_B", "must be at least 2, or the router that mixes the B adapters cannot be trained")
    end
  end,
}

local LilyModel = peft.declare_model { name = "LilyModel", prefix = "lily_" }

peft.register_peft_method {
  name = "lily",
  config_cls = LilyConfig,
  model_cls = LilyModel,
  prefix = "lily_",
  is_mixed_compatible = false,
}

return LilyConfig
