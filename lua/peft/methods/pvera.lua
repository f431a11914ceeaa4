-- PVeRA: probabilistic VeRA with sampled scaling vectors.
local peft = require "peft"

local PveraConfig = peft.declare_config {
  name = "PveraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.PVERA,
  doc = "PVeRA: probabilistic VeRA with sampled scaling vectors.",
}

local PveraModel = peft.declare_model { name = "PveraModel", prefix = "pvera_lambda_", display = "PVeRA" }

peft.register_peft_method {
  name = "pvera",
  config_cls = PveraConfig,
  model_cls = PveraModel,
  prefix = "pvera_lambda_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("PveraConfig", {
  fields = function() return {
    { "r", "int", 256,
      "Rank of the shared random projections; can be far larger than a LoRA rank." },
    F.target_modules,
    { "projection_prng_key", "int", 0,
      "Seed that regenerates the shared projections pvera_A and pvera_B." },
    { "save_projection", "bool", true,
      "Whether to store pvera_A and pvera_B in the checkpoint rather than rebuild them from the seed." },
    { "pvera_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers." },
    { "d_initial", "float", 0.1,
      "Starting value of the lambda_d scaling vector; small values (0.1 or less) work best." },
    F.fan_in_fan_out,
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'pvera_only'." },
    F.modules_to_save,
    { "init_weights", "bool", true,
      "Whether to use PVeRA's default initialisation (leave it on unless you know why)." },
    F.layers_to_transform,
    F.layers_pattern,
    { "sample_at_inference", "bool", false,
      "Whether to draw from the learned distribution at inference instead of using its mean." },
    { "generator_seed", "Optional[int]", nil,
      "Seed of the random generator used when sampling from the learned distribution." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    rules.warn_unsaved_projection(self, chk, "pvera_A and pvera_B", "projection_prng_key")
  end,
})

-- PveraModel: per layer two scaling vectors (lambda_d has 2r entries: PEFT's pvera/layer.py
-- PveraLayer.update_layer); the random projections pvera_A (2r, in) and pvera_B (out, r) live once
-- on the model, sized by the largest Linear/Conv1D the config targets (pvera/model.py _find_dim,
-- _init_pvera_A_pvera_B, run before any module is adapted) and saved only with save_projection.
local t = peft.tuner

peft.define("PveraModel", {
  layer_names = { "pvera_lambda_b", "pvera_lambda_d" },
  targets = "pvera",
  -- PveraModel._pre_injection_hook: the shared projections come first
  prepare = function(plan, cfg, ctx)
    local max_in, max_out = t.largest_linear(plan, cfg, ctx, "PVeRA")
    local r = t.int_field(cfg, "r", "PVeRA")
    ctx.pvera_dims = { t.check_dims { 2 * r, max_in }, t.check_dims { max_out, r } }
  end,
  layer = function(cfg, m, ctx)
    -- pvera/model.py _create_new_module: Linear and Conv1D only
    if m.kind ~= "linear" and m.kind ~= "conv1d" then
      t.refuse("ValueError", "Target module %s is not supported by PVeRA; it supports only torch.nn.Linear and "
        .. "transformers' Conv1D", t.describe(m))
    end
    local r = cfg.r
    ctx.r = r
    if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
    t.dropout(cfg, "pvera_dropout")
    return { t.param("pvera_lambda_b", ctx.adapter, { m.out_features }),
             t.param("pvera_lambda_d", ctx.adapter, { 2 * r }) }
  end,
  model = function(cfg, ctx)
    local keep = cfg.save_projection == true
    return { t.buffer("pvera_A", ctx.adapter, ctx.pvera_dims[1], keep),
             t.buffer("pvera_B", ctx.adapter, ctx.pvera_dims[2], keep) }
  end,
})
