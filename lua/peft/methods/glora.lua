-- GLoRA: generalised LoRA with per-layer prompt, scale and shift modules.
local peft = require "peft"

local GloraConfig = peft.declare_config {
  name = "GloraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.GLORA,
  doc = "GLoRA: generalised LoRA with per-layer prompt, scale and shift modules.",
  fields = function() return {
    { "r", "int", 8, "Rank of the low-rank factors used by every path set to 'lora'." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, or a regex matched in full.",
      set = true },
    { "bias", "str", "none", "Which biases to train: 'none', 'all' or 'glora_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "config_A_B", "Literal['lora', 'vector', 'constant', 'none']", "lora",
      "Form of the weight scale (A) and shift (B) terms: 'lora', 'vector', 'constant' or 'none'." },
    { "config_C", "Literal['lora', 'vector', 'none']", "lora",
      "Form of the weight-to-bias term C: 'lora', 'vector' or 'none'." },
    { "config_D_E", "Literal['vector', 'constant', 'none']", "constant",
      "Form of the bias scale (D) and shift (E) terms: 'vector', 'constant' or 'none'." },
    { "init_weights", "bool", true,
      "Whether the adapter starts as a no-op (zeros); false uses random (Kaiming) values." },
  } end,
  -- PEFT's __post_init__ checks that config_A_B, config_C and config_D_E are
  -- among their allowed values; the Literal annotations already enforce that
  -- here (a wrong value is rejected naming the field and the allowed values).
}

local GloraModel = peft.declare_model { name = "GloraModel", prefix = "glora_" }

peft.register_peft_method {
  name = "glora",
  config_cls = GloraConfig,
  model_cls = GloraModel,
  prefix = "glora_",
  is_mixed_compatible = false,
}

return GloraConfig
