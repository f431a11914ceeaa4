-- HRA: Householder reflection adaptation.
local peft = require "peft"

local HRAConfig = peft.declare_config {
  name = "HRAConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.HRA,
  doc = "HRA: Householder reflection adaptation.",
}

local HRAModel = peft.declare_model { name = "HRAModel", prefix = "hra_", display = "HRA" }

peft.register_peft_method {
  name = "hra",
  config_cls = HRAConfig,
  model_cls = HRAModel,
  prefix = "hra_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("HRAConfig", {
  fields = function() return {
    { "r", "int", 8,
      "Number of Householder reflections per layer (an even number suits the default initialisation)." },
    { "apply_GS", "bool", false,
      "Whether the reflection vectors are orthogonalised with Gram-Schmidt." },
    F.target_modules,
    F.exclude_modules,
    { "init_weights", "bool", true,
      "Whether to apply HRA's own initialisation to the reflections (turning this off is for tests)." },
    F.layers_to_transform,
    F.layers_pattern,
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'hra_only'." },
    F.modules_to_save,
  } end,
  post_init = function(self, chk)
    -- target_modules and exclude_modules become sets (set = true).
    rules.layer_selection(self, chk)
  end,
})

-- HRAModel: r Householder vectors per adapted Linear or Conv2d (PEFT's hra/layer.py
-- HRALayer.update_layer): hra_u is (in, r), for a Conv2d (in * k * k, r) with k the first
-- kernel dimension taken twice, as PEFT does.
local t = peft.tuner

peft.define("HRAModel", {
  layer_names = { "hra_u" },
  targets = "lora",
  layer = function(cfg, m, ctx)
    -- hra/model.py _create_new_module: Linear and Conv2d only
    if m.kind ~= "linear" and m.kind ~= "conv2d" then
      t.refuse("TypeError", "Target module %s is not supported by HRA; it supports only torch.nn.Linear and "
        .. "torch.nn.Conv2d", t.describe(m))
    end
    local r = t.int_field(cfg, "r", "HRA")
    ctx.r = r
    if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
    local rows = m.in_features
    if m.kind == "conv2d" then
      local k = t.kernel(m)
      rows = m.in_features * k * k
    end
    return { t.param("hra_u", ctx.adapter, { rows, r }) }
  end,
})
