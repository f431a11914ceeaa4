-- GLoRA: generalised LoRA with per-layer prompt, scale and shift modules.
local peft = require "peft"

local GloraConfig = peft.declare_config {
  name = "GloraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.GLORA,
  doc = "GLoRA: generalised LoRA with per-layer prompt, scale and shift modules.",
}

local GloraModel = peft.declare_model { name = "GloraModel", prefix = "glora_", display = "GLoRA" }

peft.register_peft_method {
  name = "glora",
  config_cls = GloraConfig,
  model_cls = GloraModel,
  prefix = "glora_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"

peft.define("GloraConfig", {
  fields = function() return {
    { "r", "int", 8, "Rank of the low-rank factors used by every path set to 'lora'." },
    F.target_modules,
    { "bias", "str", "none", "Which biases to train: 'none', 'all' or 'glora_only'." },
    F.modules_to_save,
    { "config_A_B", "Literal['lora', 'vector', 'constant', 'none']", "lora",
      "Form of the weight scale (A) and shift (B) terms: 'lora', 'vector', 'constant' or 'none'." },
    { "config_C", "Literal['lora', 'vector', 'none']", "lora",
      "Form of the weight-to-bias term C: 'lora', 'vector' or 'none'." },
    { "config_D_E", "Literal['vector', 'constant', 'none']", "constant",
      "Form of the bias scale (D) and shift (E) terms: 'vector', 'constant' or 'none'." },
    { "init_weights", "bool", true,
      "Whether the adapter starts as a no-op (zeros); false uses random (Kaiming) values." },
  } end,
  -- PEFT's __post_init__ checks that config_A_B, config_C and config_D_E are
  -- among their allowed values; the Literal annotations already enforce that
  -- here (a wrong value is rejected naming the field and the allowed values).
})

-- GloraModel: per layer five paths glora_A..glora_E, each a low-rank pair (Xd, Xu), a vector or
-- scalar X, or a persistent buffer of zeros; C, D and E are real only on a layer with a bias
-- (PEFT's glora/model.py _create_new_module, glora/layer.py GloraLayer.update_layer).
local t = peft.tuner

-- one path of GloraLayer.update_layer: { tensors } for attribute attr
local function glora_path(attr, adapter, form, dims, r)
  if form == "lora" then
    if r < 0 then
      t.refuse("RuntimeError", "GLoRA: %s is a low-rank path of rank r=%d; torch cannot create a tensor with a "
        .. "negative dimension", attr, r)
    end
    return { t.module(attr, adapter, "Xd", { dims.rows, r }), t.module(attr, adapter, "Xu", { r, dims.cols }) }
  elseif form == "column" then
    return { t.module(attr, adapter, "X", { dims.rows, 1 }) }
  elseif form == "row" then
    return { t.module(attr, adapter, "X", { dims.rows }) }
  elseif form == "constant" then
    return { t.module(attr, adapter, "X", { 1 }) }
  end
  return { t.buffer(attr .. "." .. adapter .. ".zeros", nil, dims.zeros, true) }
end

peft.define("GloraModel", {
  layer_names = { "glora_A", "glora_B", "glora_C", "glora_D", "glora_E" },
  targets = "lora",
  kinds = { linear = true },
  kind_error = "ValueError",
  supported = "only a plain torch.nn.Linear",
  layer = function(cfg, m, ctx)
    local r = t.int_field(cfg, "r", "GLoRA")
    local fin, fout = m.in_features, m.out_features
    local bias = m.params.bias ~= nil
    local ab = cfg.config_A_B
    local ab_form = (ab == "vector" and "column") or ab
    local weight = { rows = fout, cols = fin, zeros = { fout, fin } }
    local c = bias and cfg.config_C or "none"
    local c_form = (c == "vector" and "column") or c
    local de = bias and cfg.config_D_E or "none"
    local de_form = (de == "vector" and "row") or de
    local out = {}
    for _, p in ipairs {
      { "glora_A", ab_form, weight }, { "glora_B", ab_form, weight },
      { "glora_C", c_form, { rows = fin, cols = 1, zeros = { fin, 1 } } },
      { "glora_D", de_form, { rows = fout, zeros = { fout } } },
      { "glora_E", de_form, { rows = fout, zeros = { fout } } },
    } do
      for _, x in ipairs(glora_path(p[1], ctx.adapter, p[2], p[3], r)) do out[#out + 1] = x end
    end
    ctx.r = r
    return out
  end,
})
