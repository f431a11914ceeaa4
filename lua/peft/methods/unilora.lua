-- Uni-LoRA: one shared parameter vector projected into every LoRA matrix.
local peft = require "peft"

local UniLoraConfig = peft.declare_config {
  name = "UniLoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.UNILORA,
  doc = "Uni-LoRA: one shared parameter vector projected into every LoRA matrix.",
}

local UniLoraModel = peft.declare_model { name = "UniLoraModel", prefix = "unilora_", display = "UniLoRA" }

peft.register_peft_method {
  name = "unilora",
  config_cls = UniLoraConfig,
  model_cls = UniLoraModel,
  prefix = "unilora_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

local BIAS = { none = true, all = true, unilora_only = true }

peft.define("UniLoraConfig", {
  fields = function() return {
    { "r", "int", 4,
      "Rank of the low-rank update built from the shared vector.", check = rules.positive_int },
    { "proj_seed", "int", 42,
      "Seed of the fixed random assignment of matrix entries to vector slots." },
    { "theta_d_length", "int", 256,
      "Number of trainable entries in the shared vector theta_d.", check = rules.positive_int },
    F.target_modules,
    { "unilora_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers (0 to 1).",
      check = function(v)
        if not (0.0 <= v and v <= 1.0) then return "must be between 0.0 and 1.0" end
      end },
    F.fan_in_fan_out,
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'unilora_only'.",
      check = function(v)
        if not BIAS[v] then return "must be one of 'none', 'all', 'unilora_only'" end
      end },
    F.modules_to_save,
    { "init_theta_d_bound", "float", 0.02,
      "Half-width of the uniform range the shared vector is drawn from; must be above zero.",
      check = function(v)
        if v <= 0 then return "must be a positive number" end
      end },
    { "init_weights", "bool", true,
      "Whether to apply Uni-LoRA's own initialisation to theta_d (else it stays random)." },
    { "save_indices", "bool", false,
      "Whether to store the index and scale buffers in the checkpoint instead of regenerating them." },
    F.layers_to_transform,
    F.layers_pattern,
  } end,
  post_init = function(self, chk)
    -- r, theta_d_length, unilora_dropout, init_theta_d_bound and bias are
    -- checked per field above.
    rules.regex_excludes_layers(self, chk)
  end,
})

-- UniLoraModel: one trainable vector unilora_theta_d (theta_d_length) on the model; every adapted
-- Linear/Conv1D gets index and scale buffers unilora_indices_A / unilora_scales_A (r, in) and
-- unilora_indices_B / unilora_scales_B (out, r), persistent only with save_indices (PEFT's
-- unilora/model.py _init_unilora_theta_d, _assign_unilora_indices_and_scales; unilora/layer.py
-- update_layer). UniLoraLayer has no adapter_layer_names: nothing on the layers is a parameter.
local t = peft.tuner

peft.define("UniLoraModel", {
  layer_names = {},
  targets = "lora",
  layer = function(cfg, m, ctx)
    -- unilora/model.py _create_new_module: Linear and Conv1D only
    if m.kind ~= "linear" and m.kind ~= "conv1d" then
      t.refuse("TypeError", "Target module %s is not supported by UniLoRA; it supports only torch.nn.Linear and "
        .. "transformers' Conv1D", t.describe(m))
    end
    local r = t.int_field(cfg, "r", "UniLoRA")
    ctx.r = r
    if r <= 0 then t.refuse("ValueError", "`r` %d should be a positive integer value", r) end
    t.dropout(cfg, "unilora_dropout")
    local a, keep = ctx.adapter, cfg.save_indices == true
    local fin, fout = m.in_features, m.out_features
    return { t.buffer("unilora_indices_A", a, { r, fin }, keep), t.buffer("unilora_indices_B", a, { fout, r }, keep),
             t.buffer("unilora_scales_A", a, { r, fin }, keep), t.buffer("unilora_scales_B", a, { fout, r }, keep) }
  end,
  model = function(cfg, ctx)
    return { t.param("unilora_theta_d", ctx.adapter, { t.int_field(cfg, "theta_d_length", "UniLoRA") }) }
  end,
})
