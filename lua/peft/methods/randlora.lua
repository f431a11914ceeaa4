-- RandLoRA: full-rank updates from shared random low-rank bases.
local peft = require "peft"

local RandLoraConfig = peft.declare_config {
  name = "RandLoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.RANDLORA,
  doc = "RandLoRA: full-rank updates from shared random low-rank bases.",
}

local RandLoraModel = peft.declare_model { name = "RandLoraModel", prefix = "randlora_", display = "RandLoRA" }

peft.register_peft_method {
  name = "randlora",
  config_cls = RandLoraConfig,
  model_cls = RandLoraModel,
  prefix = "randlora_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("RandLoraConfig", {
  fields = function() return {
    { "r", "int", 32,
      "Rank of each random basis; lowering it raises the number of trainable parameters." },
    F.target_modules,
    { "projection_prng_key", "int", 0,
      "Seed that regenerates the shared random bases basis_A and basis_B." },
    { "save_projection", "bool", true,
      "Whether to store basis_A and basis_B in the checkpoint rather than rebuild them from the seed." },
    { "sparse", "bool", false,
      "Whether to use ternary sparse random bases (-1, 0, 1 with 0 two times in three)." },
    { "very_sparse", "bool", false,
      "Whether to use even sparser ternary bases (non-zero with probability about 1/sqrt(d))." },
    { "randlora_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers." },
    F.fan_in_fan_out,
    { "randlora_alpha", "int", 640,
      "Scaling coefficient of the update, typically about 20 times r; lower it if training diverges.",
      number = true },
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'randlora_only'." },
    F.modules_to_save,
    { "init_weights", "bool", true,
      "Whether to use RandLoRA's default initialisation (leave it on unless you know why)." },
    F.layers_to_transform,
    F.layers_pattern_str,
  } end,
  post_init = function(self, chk)
    rules.warn_unsaved_projection(self, chk, "basis_A and basis_B", "projection_prng_key")
  end,
})

-- RandLoraModel: the shared random bases randlora_A (r, 1, min) and randlora_B (max, bases, r) are
-- built once on the model from the largest Linear/Conv1D the config targets (PEFT's
-- randlora/model.py _find_dim, _init_randlora_A_randlora_B[_sparse], before any module is adapted);
-- every layer holds the same two buffers, so they are saved under each layer's name as well as the
-- model's (persistent only with save_projection). Per layer: randlora_lambda (r, bases) and
-- randlora_gamma (bases, min(in, out)) with bases = ceil(min(in, out) / r) (RandLoraLayer.update_layer).
local t = peft.tuner

-- ceil(a / r) as PEFT computes it from a float quotient
local function bases(a, r)
  return (a + r - 1) // r
end

local function shared_buffers(adapter, dims, keep)
  return { t.buffer("randlora_A", adapter, dims[1], keep, { shared = "randlora_A." .. adapter }),
           t.buffer("randlora_B", adapter, dims[2], keep, { shared = "randlora_B." .. adapter }) }
end

peft.define("RandLoraModel", {
  layer_names = { "randlora_lambda", "randlora_gamma" },
  targets = "lora",
  -- RandLoraModel._pre_injection_hook
  prepare = function(plan, cfg, ctx)
    local max_in, max_out = t.largest_linear(plan, cfg, ctx, "RandLora")
    local r = t.int_field(cfg, "r", "RandLoRA")
    local hi, lo = math.max(max_in, max_out), math.min(max_in, max_out)
    t.check_dims { r, 1, lo }
    if r == 0 then
      t.refuse("ZeroDivisionError", "RandLoRA: r is 0, and the number of random bases is min(in, out) / r")
    end
    ctx.randlora_dims = { { r, 1, lo }, { hi, bases(lo, r), r } }
  end,
  layer = function(cfg, m, ctx)
    -- randlora/model.py _create_new_module: Linear and Conv1D only
    if m.kind ~= "linear" and m.kind ~= "conv1d" then
      t.refuse("ValueError", "Target module %s is not supported by RandLoRA; it supports only torch.nn.Linear and "
        .. "transformers' Conv1D", t.describe(m))
    end
    local r = cfg.r
    ctx.r = r
    if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
    t.dropout(cfg, "randlora_dropout")
    local lo = math.min(m.in_features, m.out_features)
    local nb = bases(lo, r)
    local out = shared_buffers(ctx.adapter, ctx.randlora_dims, cfg.save_projection == true)
    table.insert(out, 1, t.param("randlora_lambda", ctx.adapter, { r, nb }))
    table.insert(out, 2, t.param("randlora_gamma", ctx.adapter, { nb, lo }))
    return out
  end,
  model = function(cfg, ctx)
    return shared_buffers(ctx.adapter, ctx.randlora_dims, cfg.save_projection == true)
  end,
})
