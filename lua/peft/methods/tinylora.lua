-- TinyLoRA: LoRA with very few trainable parameters per layer.
local peft = require "peft"

local TinyLoraConfig = peft.declare_config {
  name = "TinyLoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.TINYLORA,
  doc = "TinyLoRA: LoRA with very few trainable parameters per layer.",
}

local TinyLoraModel = peft.declare_model { name = "TinyLoraModel", prefix = "tinylora_", display = "TinyLoRA" }

peft.register_peft_method {
  name = "tinylora",
  config_cls = TinyLoraConfig,
  model_cls = TinyLoraModel,
  prefix = "tinylora_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("TinyLoraConfig", {
  fields = function() return {
    { "r", "int", 2,
      "Rank of the frozen truncated SVD (U, Sigma, V) of each adapted weight.", check = rules.positive_int },
    { "u", "int", 64,
      "Length of the trainable vector v in each group; smaller means fewer parameters.",
      check = rules.positive_int },
    { "weight_tying", "float", 0.0,
      "Share of the trainable vector across targeted modules, from 0.0 (none) to 1.0 (all share one).",
      check = function(v)
        if not (0.0 <= v and v <= 1.0) then return "must be between 0.0 and 1.0" end
      end },
    { "projection_seed", "int", 42,
      "Seed that regenerates the fixed random projections P." },
    { "save_projection", "bool", true,
      "Whether to store the projections P in the checkpoint rather than rebuild them from the seed." },
    { "init_v_bound", "float", 0.02,
      "Half-width of the uniform range used when the trainable vector starts random." },
    F.target_modules,
    { "tinylora_dropout", "float", 0.0,
      "Dropout probability on the input of the adapted layers." },
    F.fan_in_fan_out,
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'tinylora_only'." },
    F.modules_to_save,
    { "init_weights", "Union[bool, str]", true,
      "How v starts: true for zeros (a no-op adapter), 'uniform' for random, false to leave it unset." },
    F.layers_to_transform,
    F.layers_pattern,
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    rules.warn_unsaved_projection(self, chk, "the projections P", "projection_seed")
    -- r, u and weight_tying are checked per field above.
  end,
})

-- TinyLoraModel: the trainable vectors tinylora_v.<adapter>.<group> (u) live on the model, one per
-- group of targets (weight_tying merges neighbouring targets into a group; PEFT's
-- tinylora/model.py _create_and_replace); every target is numbered in module order among the
-- Linear/Conv1D/Embedding modules the config targets (_build_target_key_mapping), and a target
-- outside that numbering ends in a KeyError. Per layer the frozen SVD factors tinylora_A (r', in)
-- and tinylora_B (out, r') with r' = min(r, in, out), and the projection tinylora_P (u, r', r'),
-- persistent only with save_projection (tinylora/layer.py update_layer, _init_svd, _init_projection).
local t = peft.tuner

local MAPPED = { linear = true, conv1d = true, embedding = true }

-- Python's round() of a float: halves go to the even neighbour
local function round_half_even(x)
  local f = math.floor(x)
  local d = x - f
  if d > 0.5 or (d == 0.5 and f % 2 == 1) then f = f + 1 end
  return math.tointeger(f) or f
end

peft.define("TinyLoraModel", {
  layer_names = { "tinylora_v" },
  targets = "lora",
  prepare = function(plan, cfg, ctx)
    local index, n = {}, 0
    for _, m in ipairs(t.config_targets(plan, cfg, ctx)) do
      if MAPPED[m.kind] then
        index[m.name] = n
        n = n + 1
      end
    end
    local wt = t.number_field(cfg, "weight_tying", "TinyLoRA")
    ctx.tinylora_index = index
    ctx.tinylora_groups = math.max(1, round_half_even(n * (1.0 - wt)))
  end,
  layer = function(cfg, m, ctx)
    if ctx.tinylora_index[m.name] == nil then
      t.refuse("KeyError", "'%s': TinyLoRA numbers only the Linear, Conv1D and Embedding modules it targets, and %s "
        .. "is none of them", m.name, t.describe(m))
    end
    local u = t.int_field(cfg, "u", "TinyLoRA")
    t.check_dims { u }
    local r = t.int_field(cfg, "r", "TinyLoRA")
    if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
    if u <= 0 then t.refuse("ValueError", "`u` should be a positive integer value but the value passed is %d", u) end
    t.dropout(cfg, "tinylora_dropout")
    -- _init_svd / _init_svd_embedding: the weight as (out, in), (num_embeddings, embedding_dim) for an Embedding
    local rows, cols = m.out_features, m.in_features
    if m.kind == "embedding" then rows, cols = m.num_embeddings, m.embedding_dim end
    local rr = math.min(r, rows, cols)
    ctx.r = rr
    local a = ctx.adapter
    return { t.buffer("tinylora_A", a, { rr, cols }, true),
             t.buffer("tinylora_B", a, { rows, rr }, true),
             t.buffer("tinylora_P", a, { u, rr, rr }, cfg.save_projection == true) }
  end,
  model = function(cfg, ctx)
    local out = {}
    for g = 0, ctx.tinylora_groups - 1 do
      out[#out + 1] = t.module("tinylora_v", ctx.adapter, tostring(g), { cfg.u })
    end
    return out
  end,
})
