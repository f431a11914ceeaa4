-- BOFT: butterfly-factorised orthogonal fine-tuning.
local peft = require "peft"
local rules = require "peft.rules"
local types = require "peft.lazy" "peft.types"

local BOFTConfig = peft.declare_config {
  name = "BOFTConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.BOFT,
  doc = "BOFT: butterfly-factorised orthogonal fine-tuning.",
  fields = function() return {
    { "boft_block_size", "int", 4,
      "Size of each orthogonal block; set this or boft_block_num, and leave the other 0." },
    { "boft_block_num", "int", 0,
      "Number of orthogonal blocks per layer; set this or boft_block_size, and leave the other 0." },
    { "boft_n_butterfly_factor", "int", 1,
      "Number of butterfly factors (1 is plain OFT; each extra factor doubles the effective block size)." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, or a regex matched in full.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "boft_dropout", "float", 0.0,
      "Probability of replacing a BOFT block by the identity during training (multiplicative dropout)." },
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'boft_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "init_weights", "bool", true,
      "Whether to initialise BOFT so it starts as the identity (turning this off is discouraged)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Only adapt the layers with these indices (one index or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name of the layer list (e.g. 'layers' or 'h') used to find layer indices; needs layers_to_transform." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    local size, num = self.boft_block_size, self.boft_block_num
    if size == 0 and num == 0 then
      chk.fail("boft_block_size", "boft_block_size and boft_block_num cannot both be 0: set one of them (the"
        .. " other is inferred from the layer size), got boft_block_size=0 and boft_block_num=0")
    end
    if (size ~= 0) == (num ~= 0) then
      chk.fail("boft_block_num", "cannot be set together with boft_block_size, since boft_block_size x"
        .. " boft_block_num is the layer's input size: give one and set the other to 0, got boft_block_size=%s"
        .. " and boft_block_num=%s", types.repr(size), types.repr(num))
    end
  end,
}

local BOFTModel = peft.declare_model { name = "BOFTModel", prefix = "boft_" }

peft.register_peft_method {
  name = "boft",
  config_cls = BOFTConfig,
  model_cls = BOFTModel,
  prefix = "boft_",
  is_mixed_compatible = false,
}

return BOFTConfig
