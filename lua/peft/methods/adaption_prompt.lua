-- Adaption prompt (LLaMA-Adapter): gated learnable prompts in the top attention layers.
local peft = require "peft"

local AdaptionPromptConfig = peft.declare_config {
  name = "AdaptionPromptConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.ADAPTION_PROMPT,
  is_adaption_prompt = true,
  doc = "Adaption prompt (LLaMA-Adapter): gated learnable prompts in the top attention layers.",
  fields = {},
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
