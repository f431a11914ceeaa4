-- C3A: circular-convolution adaptation with block-circulant updates.
local peft = require "peft"
local rules = require "peft.rules"

local C3AConfig = peft.declare_config {
  name = "C3AConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.C3A,
  doc = "C3A: circular-convolution adaptation with block-circulant updates.",
  fields = function() return {
    { "block_size", "int", 256,
      "Size of the circulant blocks; must divide both the input and output size of every targeted layer." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, or a regex matched in full.",
      set = true },
    { "bias", "str", "none", "Which biases to train: 'none', 'all' or 'c3a_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Only adapt the layers with these indices (one index or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name(s) of the module list holding the layers (e.g. 'layers', 'h'); used with layers_to_transform." },
    { "block_size_pattern", "Optional[dict]", {},
      "Per-module block size overrides: module name or regex -> value used instead of block_size." },
    { "init_weights", "Optional[Union[bool, Literal['gaussian', 'kaiming_uniform', 'xavier_uniform']]]",
      "xavier_uniform",
      "Initialisation of the kernels: true (zeros, a no-op), 'gaussian', 'kaiming_uniform' or 'xavier_uniform' (also false)." },
  } end,
  post_init = function(self, chk)
    rules.regex_excludes_layers(self, chk)
  end,
}

local C3AModel = peft.declare_model { name = "C3AModel", prefix = "c3a_" }

peft.register_peft_method {
  name = "c3a",
  config_cls = C3AConfig,
  model_cls = C3AModel,
  prefix = "c3a_",
  is_mixed_compatible = false,
}

return C3AConfig
