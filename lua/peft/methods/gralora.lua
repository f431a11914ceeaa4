-- GraLoRA: granular LoRA that splits each weight into independently adapted blocks.
local peft = require "peft"

local GraloraConfig = peft.declare_config {
  name = "GraloraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.GRALORA,
  doc = "GraLoRA: granular LoRA that splits each weight into independently adapted blocks.",
}

local GraloraModel = peft.declare_model { name = "GraloraModel", prefix = "gralora_", display = "GraLoRA" }

peft.register_peft_method {
  name = "gralora",
  config_cls = GraloraConfig,
  model_cls = GraloraModel,
  prefix = "gralora_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"

peft.define("GraloraConfig", {
  fields = function() return {
    { "r", "int", 32, "Total GraLoRA rank, shared out over the gralora_k blocks (must be divisible by it)." },
    { "hybrid_r", "int", 0, "Extra rank given to a plain LoRA branch (Hybrid GraLoRA when > 0)." },
    F.target_modules,
    { "alpha", "int", 64, "Scaling numerator: the update is scaled by alpha / (r + hybrid_r).",
      number = true },
    { "gralora_dropout", "float", 0.0, "Dropout probability on the input of the GraLoRA branch." },
    { "gralora_k", "int", 2, "Number of blocks each weight is split into along each side (a positive integer)." },
    F.fan_in_fan_out,
    { "bias", "str", "none", "Which biases to train: 'none', 'all' or 'gralora_only'." },
    F.modules_to_save,
    { "init_weights", "bool", true,
      "Whether to use the default initialisation that makes the adapter start as a no-op." },
    F.layers_to_transform,
    F.layers_pattern_str,
  } end,
  post_init = function(self, chk)
    if self.gralora_k <= 0 then
      chk.fail_value("gralora_k", "must be a positive integer")
    end
    if self.r % self.gralora_k ~= 0 then
      chk.fail_value("r", "must be divisible by gralora_k (%d)", self.gralora_k)
    end
  end,
})

-- GraloraModel: per layer the stacked block factors gralora_A (k, in/k, r) and gralora_B
-- (k, r, out/k), plus a plain LoRA pair when hybrid_r > 0 (PEFT's gralora/model.py
-- _create_new_module, gralora/layer.py GraloraLayer.update_layer).
local t = peft.tuner

peft.define("GraloraModel", {
  layer_names = { "gralora_A", "gralora_B", "gralora_A_general", "gralora_B_general" },
  targets = "lora",
  kinds = { linear = true, conv1d = true },
  supported = "torch.nn.Linear and transformers' Conv1D",
  layer = function(cfg, m, ctx)
    local r = t.int_field(cfg, "r", "GraLoRA")
    local hybrid = t.int_field(cfg, "hybrid_r", "GraLoRA")
    local k = t.int_field(cfg, "gralora_k", "GraLoRA")
    if r <= 0 then
      t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r)
    elseif hybrid < 0 then
      t.refuse("ValueError", "`hybrid_r` should be a non-negative integer value but the value passed is %d", hybrid)
    end
    t.dropout(cfg, "gralora_dropout")
    local fin, fout = m.in_features, m.out_features
    if fin % k ~= 0 then
      t.refuse("ValueError", "%s: in_features (%d) must be divisible by gralora_k (%d)", m.name, fin, k)
    end
    if fout % k ~= 0 then
      t.refuse("ValueError", "%s: out_features (%d) must be divisible by gralora_k (%d)", m.name, fout, k)
    end
    local a = ctx.adapter
    local out = { t.param("gralora_A", a, { k, fin // k, r }), t.param("gralora_B", a, { k, r, fout // k }) }
    if hybrid > 0 then
      out[#out + 1] = t.module("gralora_A_general", a, "weight", { hybrid, fin })
      out[#out + 1] = t.module("gralora_B_general", a, "weight", { fout, hybrid })
    end
    ctx.r = r
    return out
  end,
})
