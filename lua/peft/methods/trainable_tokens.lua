-- Trainable tokens: fine-tunes the embeddings of selected token ids only.
local peft = require "peft"

local TrainableTokensConfig = peft.declare_config {
  name = "TrainableTokensConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.TRAINABLE_TOKENS,
  doc = "Trainable tokens: fine-tunes the embeddings of selected token ids only.",
}

local TrainableTokensModel = peft.declare_model { name = "TrainableTokensModel", prefix = "trainable_tokens_", display = WHO }

peft.register_peft_method {
  name = "trainable_tokens",
  config_cls = TrainableTokensConfig,
  model_cls = TrainableTokensModel,
  prefix = "trainable_tokens_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"

peft.define("TrainableTokensConfig", {
  fields = function() return {
    { "token_indices", "list[int]", setmetatable({}, peft.core.json_array_mt),
      "Ids of the tokens whose embeddings are trained; the rest of the embedding stays frozen." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Embedding modules to adapt (names or a regex); the model's input embedding when null." },
    { "init_weights", "bool", true,
      "Whether the trained embeddings start as copies of the current ones (else random; for tests)." },
  } end,
  -- PEFT's __post_init__ only sets peft_type; target_modules is kept as given.
})

-- TrainableTokensModel: each targeted module gets a trainable copy of the weight rows of
-- token_indices (trainable_tokens_delta) and a frozen non-persistent one
-- (trainable_tokens_original); with no target_modules the input embedding is targeted; a
-- module tied to the input embedding shares its delta (PEFT's trainable_tokens/model.py
-- _prepare_adapter_config and inject_adapter, layer.py TrainableTokensLayer.update_layer).
local t = peft.tuner

local WHO = "Trainable tokens"

-- the torch class names PEFT's AttributeError messages show
local CLASS = { conv1d = "Conv1D", norm = "LayerNorm", conv2d = "Conv2d", container = "Module", other = "Module" }

local function tied_id(plan) return "trainable_tokens:" .. tostring(plan.base.input_embeddings) end

peft.define("TrainableTokensModel", {
  layer_names = { "trainable_tokens_delta" },
  needs_targets = false,
  -- _prepare_adapter_config: the input embedding's full name (a string, so matched as a regex)
  prepare = function(plan, cfg, ctx)
    if ctx.target_modules == nil then ctx.target_modules = plan.base.input_embeddings or "embed_tokens" end
  end,
  layer = function(cfg, m, ctx)
    local a = ctx.adapter
    local w = m.params.weight
    if not w then
      t.refuse("AttributeError", "%s: %s has no weight to take token rows from ('%s' object has no attribute "
        .. "'weight')", WHO, t.describe(m), CLASS[m.kind] or m.kind)
    end
    local width
    if m.kind == "embedding" then
      width = m.embedding_dim
    elseif m.kind == "linear" then
      width = m.in_features
    else
      t.refuse("AttributeError", "%s: %s has neither embedding_dim nor in_features ('%s' object has no attribute "
        .. "'in_features')", WHO, t.describe(m), CLASS[m.kind] or m.kind)
    end
    local idx = t.get(cfg, "token_indices") or {}
    local shape = { #idx, width }
    if cfg.init_weights ~= false then
      -- the delta starts as weight[token_indices]: rows of the weight as torch stores it
      local rows = w.shape[1]
      for _, i in ipairs(idx) do
        if math.type(i) ~= "integer" or i >= rows or i < -rows then
          t.refuse("IndexError", "%s: index %s is out of bounds for dimension 0 with size %d (the weight of %s)", WHO,
            require("peft.types").repr(i), rows, m.name)
        end
      end
      shape = { #idx, table.unpack(w.shape, 2) }
    end
    local tied = ctx.plan.base.tie_word_embeddings and m.name == ctx.plan.base.input_embeddings
    return { t.param("trainable_tokens_delta", a, shape, { shared = tied and tied_id(ctx.plan) or nil }),
             t.buffer("trainable_tokens_original", a, shape, false) }
  end,
  -- TrainableTokensModel.inject_adapter: with tie_word_embeddings, the output embedding gets a
  -- layer that holds the input embedding's delta itself
  after = function(plan, cfg, ctx)
    local base = plan.base
    local emb, out = base.input_embeddings, base.output_embeddings
    if not (base.tie_word_embeddings and emb and out and plan.layers[emb]) then return end
    local delta
    for _, x in ipairs(plan.layers[emb].tensors) do
      if x.name == "trainable_tokens_delta." .. ctx.adapter then delta = x end
    end
    local m = plan.by_name[out]
    if not (delta and m) then return end
    -- an output embedding targeted itself is replaced by the tied layer
    local layer = plan.layers[out]
    if layer then
      local keep = {}
      for _, x in ipairs(layer.tensors) do
        if x.adapter ~= ctx.adapter then keep[#keep + 1] = x end
      end
      layer.tensors = keep
    end
    local method = peft.method("TRAINABLE_TOKENS")
    plan:add_layer(m, { t.param("trainable_tokens_delta", ctx.adapter, delta.shape, { shared = tied_id(plan) }) },
      ctx.adapter, method, method.model_cls)
  end,
})
