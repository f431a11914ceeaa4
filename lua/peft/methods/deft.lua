-- DEFT: decomposed efficient fine-tuning.
local peft = require "peft"

local DeftConfig = peft.declare_config {
  name = "DeftConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.DEFT,
  doc = "DEFT: decomposed efficient fine-tuning.",
}

local DeftModel = peft.declare_model { name = "DeftModel", prefix = "deft_", display = "DeFT" }

peft.register_peft_method {
  name = "deft",
  config_cls = DeftConfig,
  model_cls = DeftModel,
  prefix = "deft_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("DeftConfig", {
  fields = function() return {
    { "r", "int", 8,
      "Rank of the learned projection direction P and injection matrix R." },
    F.target_modules,
    F.exclude_modules,
    { "decomposition_method", "Literal['relu', 'qr']", "relu",
      "How the projector is formed from P: 'relu' (non-orthogonal) or 'qr' (orthogonal)." },
    { "init_scale", "float", 1.0,
      "Factor on the standard deviation of R's random start (used when init_weights is false)." },
    { "alpha", "Optional[int]", nil,
      "Scales the injection term by alpha / r, as LoRA's alpha does; null means no scaling.", number = true },
    { "para", "bool", false,
      "Whether to run PaRa instead: subspace removal only, no injection matrix R." },
    F.fan_in_fan_out,
    { "deft_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers." },
    { "init_weights", "bool", true,
      "Whether to start from an exact identity update (the default; leave it on unless you know why)." },
    F.layers_to_transform,
    F.layers_pattern,
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'deft_only'." },
    F.modules_to_save,
  } end,
  post_init = function(self, chk)
    -- decomposition_method ('relu' or 'qr') is enforced by its Literal type.
    rules.layer_selection(self, chk)
  end,
})

-- DeftModel: per layer a projection direction deft_P (out, r) and, unless para, an injection
-- matrix deft_R (r, in), r capped at out_features (PEFT's deft/model.py _create_new_module,
-- deft/layer.py DeftLayer.update_layer). Conv1D's features come from its [in, out] weight.
local t = peft.tuner

peft.define("DeftModel", {
  layer_names = { "deft_P", "deft_R" },
  targets = "lora",
  kinds = { linear = true, conv1d = true },
  supported = "torch.nn.Linear and transformers' Conv1D",
  layer = function(cfg, m, ctx)
    local r = t.int_field(cfg, "r", "DeFT")
    if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
    r = math.min(r, m.out_features)
    t.dropout(cfg, "deft_dropout")
    ctx.r = r
    local out = { t.param("deft_P", ctx.adapter, { m.out_features, r }) }
    if cfg.para ~= true then out[#out + 1] = t.param("deft_R", ctx.adapter, { r, m.in_features }) end
    return out
  end,
})
