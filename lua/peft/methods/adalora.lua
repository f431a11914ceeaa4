-- AdaLoRA: LoRA whose rank budget is reallocated across layers during training.
local peft = require "peft"
local rules = require "peft.rules"

local AdaLoraConfig = peft.declare_config {
  name = "AdaLoraConfig",
  parent = require "peft.methods.lora",
  peft_type = peft.PeftType.ADALORA,
  doc = "AdaLoRA: LoRA whose rank budget is reallocated across layers during training.",
  fields = function() return {
    -- replaces LoraConfig's rank_pattern (there: {} by default)
    { "rank_pattern", "Optional[dict]", nil,
      "Rank the allocator gave each module, recorded by AdaLoRA after training; null before." },
    { "target_r", "int", 8, "Average rank the budget is reduced to.", whole = true },
    { "init_r", "int", 12, "Rank every adapted matrix starts with (AdaLoRA ignores r)." },
    { "tinit", "int", 0, "Warm-up steps before the rank budget starts shrinking.", whole = true },
    { "tfinal", "int", 0, "Last steps, trained with the final budget fixed.", whole = true },
    { "deltaT", "int", 1, "Steps between two budget reallocations.", whole = true },
    { "beta1", "float", 0.85, "EMA factor smoothing the importance (sensitivity) scores." },
    { "beta2", "float", 0.85, "EMA factor of the uncertainty of the importance scores." },
    { "orth_reg_weight", "float", 0.5, "Weight of the orthogonality penalty on the singular vectors.", min = 0 },
    { "total_step", "Optional[int]", nil, "Total number of training steps; required, > 0.", whole = true },
  } end,
  -- runs after LoraConfig's rules (PEFT calls super().__post_init__ first).
  -- PEFT then repeats LoRA's target_modules set conversion and its
  -- layers_to_transform / layers_pattern checks: LoRA's rules already did
  -- those (and raised first), so they are not repeated here.
  post_init = function(self, chk)
    if self.use_dora then
      chk.fail_value("use_dora", "must be false (AdaLoRA does not support DoRA)")
    end
    -- LoRA's rules cleared loftq_config unless init_lora_weights is 'loftq'
    if rules.truthy(self.loftq_config) then
      chk.fail_value("loftq_config", "must be empty (AdaLoRA does not support LoftQ)")
    end
    if self.r ~= 8 then
      chk.warn("r is not used by AdaLoRA and is ignored (got %d); set init_r for the initial rank", self.r)
    end
    local total = self.total_step
    if total == nil or total <= 0 then
      chk.fail_value("total_step", "must be an integer > 0 (the number of training steps AdaLoRA schedules)")
    end
    if self.tinit >= total - self.tfinal then
      chk.fail("tinit",
        "leaves no budgeting phase: tinit must be < total_step - tfinal (%d - %d = %d), got %d; "
        .. "lower tinit or tfinal, or raise total_step",
        total, self.tfinal, total - self.tfinal, self.tinit)
    end
  end,
}

local AdaLoraModel = peft.declare_model { name = "AdaLoraModel", prefix = "lora_" }

peft.register_peft_method {
  name = "adalora",
  config_cls = AdaLoraConfig,
  model_cls = AdaLoraModel,
  prefix = "lora_",
  is_mixed_compatible = true,
  shares_prefix_with = "lora",
}

return AdaLoraConfig
