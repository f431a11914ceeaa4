-- DEFT: decomposed efficient fine-tuning.
local peft = require "peft"
local rules = require "peft.rules"

local DeftConfig = peft.declare_config {
  name = "DeftConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.DEFT,
  doc = "DEFT: decomposed efficient fine-tuning.",
  fields = function() return {
    { "r", "int", 8,
      "Rank of the learned projection direction P and injection matrix R." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, a regex matched in full, or 'all-linear'.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "decomposition_method", "Literal['relu', 'qr']", "relu",
      "How the projector is formed from P: 'relu' (non-orthogonal) or 'qr' (orthogonal)." },
    { "init_scale", "float", 1.0,
      "Factor on the standard deviation of R's random start (used when init_weights is false)." },
    { "alpha", "Optional[int]", nil,
      "Scales the injection term by alpha / r, as LoRA's alpha does; null means no scaling.", number = true },
    { "para", "bool", false,
      "Whether to run PaRa instead: subspace removal only, no injection matrix R." },
    { "fan_in_fan_out", "bool", false,
      "Whether the targeted layers store their weight as (fan_in, fan_out), like GPT-2's Conv1D." },
    { "deft_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers." },
    { "init_weights", "bool", true,
      "Whether to start from an exact identity update (the default; leave it on unless you know why)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Layer indices to adapt (one or a list); needs target_modules to be a list." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name of the layer list (e.g. 'layers' or 'h') that layers_to_transform indexes into." },
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'deft_only'." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
  } end,
  post_init = function(self, chk)
    -- decomposition_method ('relu' or 'qr') is enforced by its Literal type.
    rules.layer_selection(self, chk)
  end,
}

-- DeftModel: per layer a projection direction deft_P (out, r) and, unless para, an injection
-- matrix deft_R (r, in), r capped at out_features (PEFT's deft/model.py _create_new_module,
-- deft/layer.py DeftLayer.update_layer). Conv1D's features come from its [in, out] weight.
local t = peft.tuner

local DeftModel = peft.declare_model {
  name = "DeftModel", prefix = "deft_", display = "DeFT",
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
}

peft.register_peft_method {
  name = "deft",
  config_cls = DeftConfig,
  model_cls = DeftModel,
  prefix = "deft_",
  is_mixed_compatible = false,
}

return DeftConfig
