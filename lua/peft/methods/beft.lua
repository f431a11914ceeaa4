-- BEFT: bias-efficient fine-tuning of selected bias terms.
local peft = require "peft"

local BeftConfig = peft.declare_config {
  name = "BeftConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.BEFT,
  doc = "BEFT: bias-efficient fine-tuning of selected bias terms.",
}

local BeftModel = peft.declare_model { name = "BeftModel", prefix = "beft_", display = "BEFT" }

peft.register_peft_method {
  name = "beft",
  config_cls = BeftConfig,
  model_cls = BeftModel,
  prefix = "beft_",
  is_mixed_compatible = true,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"

peft.define("BeftConfig", {
  fields = function() return {
    F.target_modules,
    F.modules_to_save,
    { "init_weights", "bool", true,
      "Whether to apply BEFT's own initialisation to its vectors (turning this off is discouraged)." },
  } end,
  -- PEFT's __post_init__ only turns target_modules into a set (set = true).
})

-- BeftModel: one trainable bias row per targeted Linear (PEFT's beft/model.py _create_new_module;
-- layer.py BeftLayer.update_layer).
local t = peft.tuner

peft.define("BeftModel", {
  layer_names = { "beft_bias" },
  targets = "beft",
  layer = function(cfg, m, ctx)
    if m.kind ~= "linear" then t.refuse_kind("BEFT", m, "only torch.nn.Linear", "TypeError") end
    return { t.param("beft_bias", ctx.adapter, { 1, m.out_features }) }
  end,
})
