-- DeLoRA: decoupled low-rank adaptation with a bounded, normalised update.
local peft = require "peft"

local DeloraConfig = peft.declare_config {
  name = "DeloraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.DELORA,
  doc = "DeLoRA: decoupled low-rank adaptation with a bounded, normalised update.",
}

local DeloraModel = peft.declare_model { name = "DeloraModel", prefix = "delora_", display = "DeLoRA" }

peft.register_peft_method {
  name = "delora",
  config_cls = DeloraConfig,
  model_cls = DeloraModel,
  prefix = "delora_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("DeloraConfig", {
  fields = function() return {
    { "r", "int", 8, "Rank of the DeLoRA update (a positive integer)." },
    { "delora_lambda", "int", 15,
      "Initial bound on the Frobenius norm of the weight update (learned during training).", number = true },
    { "module_dropout", "float", 0.0, "Training-time probability of skipping a whole DeLoRA module." },
    F.target_modules,
    F.exclude_modules,
    { "bias", "Literal['none', 'all', 'delora_only']", "none",
      "Which biases to train: 'none', 'all' or 'delora_only'." },
    { "init_weights", "bool", true,
      "Whether the adapter starts as a no-op (B = 0); false makes both factors random (discouraged)." },
    F.layers_to_transform,
    F.layers_pattern,
    { "rank_pattern", "Optional[dict]", {},
      "Per-module rank overrides: module name or regex -> rank used instead of r." },
    { "lambda_pattern", "Optional[dict]", {},
      "Per-module bound overrides: module name or regex -> value used instead of delora_lambda." },
    F.modules_to_save,
  } end,
  post_init = function(self, chk)
    rules.regex_excludes_layers(self, chk, { "layers_to_transform" })
    rules.pattern_needs_layers(self, chk)
    if self.r <= 0 then
      chk.fail_value("r", "must be a positive integer")
    end
  end,
})

-- DeloraModel: low-rank A and B, a learned norm bound lambda, and the persistent buffer of the
-- base weight's column norms (PEFT's delora/model.py _create_and_replace, _create_new_module;
-- layer.py DeloraLayer.update_layer, reset_delora_parameters).
local t = peft.tuner

local function pattern_dict(cfg, key)
  local v = t.get(cfg, key)
  if v == nil then
    t.refuse("AttributeError", "DeLoRA: %s is null in the config; building a layer looks up its keys ('NoneType' "
      .. "object has no attribute 'keys')", key)
  end
  return v
end

peft.define("DeloraModel", {
  layer_names = { "delora_A", "delora_B", "delora_lambda" },
  targets = "lora",
  layer = function(cfg, m, ctx)
    local a = ctx.adapter
    local r = t.pattern_value(pattern_dict(cfg, "rank_pattern"), ctx.key, cfg.r)
    ctx.r = r
    t.pattern_value(pattern_dict(cfg, "lambda_pattern"), ctx.key, cfg.delora_lambda)
    if m.kind ~= "linear" then t.refuse_kind("DeLoRA", m, "only torch.nn.Linear", "TypeError") end
    if type(r) == "number" and r <= 0 then
      t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %s", tostring(r))
    elseif math.type(r) ~= "integer" then
      t.refuse("TypeError", "DeLoRA: the rank of %s must be an integer, got %s", m.name, peft.types.repr(r))
    end
    t.dropout(cfg, "module_dropout")
    return { t.param("delora_A", a, { r, m.in_features }), t.param("delora_B", a, { m.out_features, r }),
             t.param("delora_lambda", a, { 1 }), t.buffer("delora_w_norm", a, { m.in_features }, true) }
  end,
})
