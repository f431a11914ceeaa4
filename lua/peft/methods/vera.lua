-- VeRA: shared frozen random matrices with small trainable scaling vectors.
local peft = require "peft"
local rules = require "peft.rules"

local VeraConfig = peft.declare_config {
  name = "VeraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.VERA,
  doc = "VeRA: shared frozen random matrices with small trainable scaling vectors.",
  fields = function() return {
    { "r", "int", 256, "Inner dimension of the shared random projections (larger than typical LoRA ranks)." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Linear modules to adapt: names matched exactly or as a suffix, or a regex matched in full.",
      set = true },
    { "projection_prng_key", "int", 0,
      "Seed of the random generator that builds the shared projections vera_A and vera_B." },
    { "save_projection", "bool", true,
      "Whether vera_A and vera_B are saved with the adapter (false: rebuilt from the seed on load)." },
    { "vera_dropout", "float", 0.0, "Dropout probability on the input of the VeRA branch." },
    { "d_initial", "float", 0.1, "Initial value of the lambda_d scaling vector (small values work best)." },
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "bias", "str", "none", "Which biases to train: 'none', 'all' or 'vera_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "init_weights", "bool", true,
      "Whether to use the default initialisation of the VeRA layers (change only for debugging)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Only adapt the layers with these indices (one index or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name(s) of the module list holding the layers (e.g. 'layers', 'h'); used with layers_to_transform." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    if not self.save_projection then
      chk.warn("save_projection is false: vera_A and vera_B will be rebuilt from projection_prng_key on load, "
        .. "which may not give the same matrices on every system; set save_projection to true to be safe")
    end
  end,
}

local VeraModel = peft.declare_model { name = "VeraModel", prefix = "vera_lambda_" }

peft.register_peft_method {
  name = "vera",
  config_cls = VeraConfig,
  model_cls = VeraModel,
  prefix = "vera_lambda_",
  is_mixed_compatible = false,
}

return VeraConfig
