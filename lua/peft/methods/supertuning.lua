-- Super-Tuning: sparse, structured updates to selected weight blocks.
local peft = require "peft"

local SupertuningConfig = peft.declare_config {
  name = "SupertuningConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.SUPERTUNING,
  doc = "Super-Tuning: sparse, structured updates to selected weight blocks.",
  fields = function() return {
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, or a regex matched in full.",
      set = true },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
    { "sparsity", "float", 0.99,
      "Fraction of weight entries kept frozen, in [0, 1) (0.99 trains 1% of the entries)." },
    { "select_top", "bool", true,
      "Whether the trainable entries are the largest-magnitude ones (false: the smallest)." },
    { "r", "Optional[int]", nil,
      "Rank of an added low-rank branch ('Supra' hybrid); null trains the sparse entries only." },
    { "lora_alpha", "Optional[float]", nil,
      "Scaling of the low-rank branch; derived as 2 * r when r is set and this is null." },
    { "lora_dropout", "float", 0.0, "Dropout probability of the low-rank branch, in [0, 1)." },
    { "init_weights", "bool", true,
      "Whether the adapter starts as a no-op (zeros); false uses random (Kaiming) values." },
    { "save_precomputed_indices", "bool", true,
      "Whether the selected entry indices are saved with the weights (false: recomputed on load)." },
  } end,
  post_init = function(self, chk)
    local s = self.sparsity
    if not (s >= 0.0 and s < 1.0) then
      chk.fail_value("sparsity", "must be in [0.0, 1.0)")
    end
    if self.r ~= nil then
      if self.r <= 0 then
        chk.fail_value("r", "must be a positive integer or null")
      end
      if self.lora_alpha == nil then
        -- PEFT writes an integer here (2 * r), so do we
        chk.set("lora_alpha", 2 * self.r)
      end
    elseif self.lora_alpha ~= nil then
      chk.fail_value("lora_alpha", "must be null when r is null (the low-rank branch needs an explicit r)")
    end
    local d = self.lora_dropout
    if not (d >= 0.0 and d < 1.0) then
      chk.fail_value("lora_dropout", "must be in [0.0, 1.0)")
    end
    if not self.save_precomputed_indices then
      chk.warn("save_precomputed_indices is false: the selected entries will be recomputed from the base "
        .. "weights on load, which only gives the same selection if those weights are unchanged")
    end
  end,
}

local SupertuningModel = peft.declare_model { name = "SupertuningModel", prefix = "supertuning_" }

peft.register_peft_method {
  name = "supertuning",
  config_cls = SupertuningConfig,
  model_cls = SupertuningModel,
  prefix = "supertuning_",
  is_mixed_compatible = false,
}

return SupertuningConfig
