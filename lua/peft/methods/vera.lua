-- VeRA: shared frozen random matrices with small trainable scaling vectors.
local peft = require "peft"

local VeraConfig = peft.declare_config {
  name = "VeraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.VERA,
  doc = "VeRA: shared frozen random matrices with small trainable scaling vectors.",
}

local VeraModel = peft.declare_model { name = "VeraModel", prefix = "vera_lambda_", display = "VeRA" }

peft.register_peft_method {
  name = "vera",
  config_cls = VeraConfig,
  model_cls = VeraModel,
  prefix = "vera_lambda_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("VeraConfig", {
  fields = function() return {
    { "r", "int", 256, "Inner dimension of the shared random projections (larger than typical LoRA ranks)." },
    F.target_modules,
    { "projection_prng_key", "int", 0,
      "Seed of the random generator that builds the shared projections vera_A and vera_B." },
    { "save_projection", "bool", true,
      "Whether vera_A and vera_B are saved with the adapter (false: rebuilt from the seed on load)." },
    { "vera_dropout", "float", 0.0, "Dropout probability on the input of the VeRA branch." },
    { "d_initial", "float", 0.1, "Initial value of the lambda_d scaling vector (small values work best)." },
    F.fan_in_fan_out,
    { "bias", "str", "none", "Which biases to train: 'none', 'all' or 'vera_only'." },
    F.modules_to_save,
    { "init_weights", "bool", true,
      "Whether to use the default initialisation of the VeRA layers (change only for debugging)." },
    F.layers_to_transform,
    F.layers_pattern,
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    rules.warn_unsaved_projection(self, chk, "vera_A and vera_B", "projection_prng_key")
  end,
})

-- VeraModel: per layer two scaling vectors; the random projections vera_A and vera_B live
-- once on the model (PEFT's vera/model.py _find_dim, _init_vera_A_vera_B; vera/layer.py
-- update_layer), sized by the largest adapted layer, and saved only with save_projection.
local t = peft.tuner

peft.define("VeraModel", {
  layer_names = { "vera_lambda_b", "vera_lambda_d" },
  targets = "vera",
  -- VeraModel._find_dim, run before any layer is built: the largest Linear / Conv1D the config
  -- matches sizes the shared projections; no such module at all is refused first
  prepare = function(plan, cfg, ctx)
    local max_in, max_out = t.largest_linear(plan, cfg, ctx, "VeRA")
    ctx.vera_dims = { max_in, max_out }
  end,
  layer = function(cfg, m, ctx)
    if m.kind ~= "linear" and m.kind ~= "conv1d" then
      t.refuse_kind("VeRA", m, "torch.nn.Linear (optionally quantized) and transformers' Conv1D")
    end
    local r = t.int_field(cfg, "r", "VeRA")
    if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
    t.dropout(cfg, "vera_dropout")
    return { t.param("vera_lambda_b", ctx.adapter, { m.out_features }),
             t.param("vera_lambda_d", ctx.adapter, { r }) }
  end,
  model = function(cfg, ctx)
    local max_in, max_out = ctx.vera_dims[1], ctx.vera_dims[2]
    local keep = cfg.save_projection == true
    return { t.buffer("vera_A", ctx.adapter, { cfg.r, max_in }, keep),
             t.buffer("vera_B", ctx.adapter, { max_out, cfg.r }, keep) }
  end,
})
