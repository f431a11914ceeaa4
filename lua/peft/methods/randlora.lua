-- RandLoRA: full-rank updates from shared random low-rank bases.
local peft = require "peft"

local RandLoraConfig = peft.declare_config {
  name = "RandLoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.RANDLORA,
  doc = "RandLoRA: full-rank updates from shared random low-rank bases.",
  fields = function() return {
    { "r", "int", 32,
      "Rank of each random basis; lowering it raises the number of trainable parameters." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Linear modules to adapt: names matched exactly or as a suffix, or a regex matched in full.",
      set = true },
    { "projection_prng_key", "int", 0,
      "Seed that regenerates the shared random bases basis_A and basis_B." },
    { "save_projection", "bool", true,
      "Whether to store basis_A and basis_B in the checkpoint rather than rebuild them from the seed." },
    { "sparse", "bool", false,
      "Whether to use ternary sparse random bases (-1, 0, 1 with 0 two times in three)." },
    { "very_sparse", "bool", false,
      "Whether to use even sparser ternary bases (non-zero with probability about 1/sqrt(d))." },
    { "randlora_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers." },
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "randlora_alpha", "int", 640,
      "Scaling coefficient of the update, typically about 20 times r; lower it if training diverges.",
      number = true },
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'randlora_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "init_weights", "bool", true,
      "Whether to use RandLoRA's default initialisation (leave it on unless you know why)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Layer indices to adapt (one or a list)." },
    { "layers_pattern", "Optional[str]", nil,
      "Name of the layer list (e.g. 'layers' or 'h') that layers_to_transform indexes into." },
  } end,
  post_init = function(self, chk)
    if not self.save_projection then
      chk.warn("save_projection is false: basis_A and basis_B are left out of the checkpoint and rebuilt "
        .. "from projection_prng_key (%d) on load, which may differ across systems; "
        .. "set save_projection = true to be safe", self.projection_prng_key)
    end
  end,
}

local RandLoraModel = peft.declare_model { name = "RandLoraModel", prefix = "randlora_" }

peft.register_peft_method {
  name = "randlora",
  config_cls = RandLoraConfig,
  model_cls = RandLoraModel,
  prefix = "randlora_",
  is_mixed_compatible = false,
}

return RandLoraConfig
