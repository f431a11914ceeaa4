-- Adaption prompt (LLaMA-Adapter): gated learnable prompts in the top attention layers.
local peft = require "peft"

local AdaptionPromptConfig = peft.declare_config {
  name = "AdaptionPromptConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.ADAPTION_PROMPT,
  is_adaption_prompt = true,
  doc = "Adaption prompt (LLaMA-Adapter): gated learnable prompts in the top attention layers.",
  fields = function() return {
    { "target_modules", "str", nil,
      "Name of the attention submodules that get prompts; chosen from the model type when null." },
    { "adapter_len", "int", nil,
      "Number of learnable prompt tokens inserted in each adapted layer." },
    { "adapter_layers", "int", nil,
      "Number of layers, counted from the top of the model, that get adaption prompts." },
  } end,
  -- PEFT's __post_init__ only sets peft_type; is_adaption_prompt is the
  -- class flag above.
}

local AdaptionPromptModel = peft.declare_model { name = "AdaptionPromptModel", prefix = "adaption_prompt_" }

peft.register_peft_method {
  name = "adaption_prompt",
  config_cls = AdaptionPromptConfig,
  model_cls = AdaptionPromptModel,
  prefix = "adaption_prompt_",
  is_mixed_compatible = false,
}

return AdaptionPromptConfig
