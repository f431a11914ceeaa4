-- HiRA: Hadamard high-rank adaptation.
local peft = require "peft"

local HiraConfig = peft.declare_config {
  name = "HiraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.HIRA,
  doc = "HiRA: Hadamard high-rank adaptation.",
}

local HiraModel = peft.declare_model { name = "HiraModel", prefix = "hira_", display = "HiRA" }

peft.register_peft_method {
  name = "hira",
  config_cls = HiraConfig,
  model_cls = HiraModel,
  prefix = "hira_",
  is_mixed_compatible = true,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("HiraConfig", {
  fields = function() return {
    { "r", "int", 32, "Rank of the low-rank factors A and B that are multiplied element-wise with the weight." },
    F.target_modules,
    F.exclude_modules,
    { "hira_dropout", "float", 0.0, "Dropout probability on the input of the HiRA branch." },
    F.fan_in_fan_out,
    F.modules_to_save,
    { "init_weights", "bool | Literal['gaussian'] | None", true,
      "Initialisation: true (B = 0, a no-op), false (random, for debugging) or 'gaussian' (rank-scaled)." },
    F.layers_to_transform,
    F.layers_pattern,
    { "rank_pattern", "Optional[dict]", {},
      "Per-module rank overrides: module name or regex -> rank used instead of r." },
  } end,
  post_init = function(self, chk)
    rules.regex_excludes_layers(self, chk)
  end,
})

-- HiraModel: low-rank A and B whose product scales the base weight element-wise (PEFT's
-- hira/model.py _create_and_replace, _create_new_module; layer.py dispatch_default,
-- HiraLayer.update_layer, Embedding.update_layer, _ConvNd.update_layer).
local t = peft.tuner

local function hira_layer(cfg, m, ctx)
  local a = ctx.adapter
  local rp = t.get(cfg, "rank_pattern")
  if rp == nil then
    t.refuse("AttributeError", "HiRA: rank_pattern is null in the config; building a layer looks up its keys "
      .. "('NoneType' object has no attribute 'keys')")
  end
  -- a new layer is built by dispatch_default with the config's r: rank_pattern only reaches
  -- update_layer of a module that already holds a HiRA layer (another adapter's)
  local r = t.int_field(cfg, "r", "HiRA")
  if ctx.plan.layers[m.name] then r = t.pattern_value(rp, ctx.key, r) end
  ctx.r = r
  local kind = m.kind
  if kind ~= "linear" and kind ~= "conv1d" and kind ~= "conv2d" and kind ~= "embedding" then
    t.refuse_kind("HiRA", m, "only torch.nn.Linear, torch.nn.Embedding, torch.nn.Conv1d/2d/3d and transformers' "
      .. "Conv1D", "ValueError")
  end
  if r <= 0 then t.refuse("ValueError", "`r` should be a positive integer value but the value passed is %d", r) end
  t.dropout(cfg, "hira_dropout")
  if kind == "embedding" then
    return { t.param("hira_embedding_A", a, { r, m.num_embeddings }),
             t.param("hira_embedding_B", a, { m.embedding_dim, r }) }
  elseif kind == "conv2d" then
    local kh, kw = t.kernel(m)
    return { t.param("hira_A", a, { r, m.in_features, kh, kw }), t.param("hira_B", a, { m.out_features, r, 1, 1 }) }
  end
  local init = t.get(cfg, "init_weights")
  if type(init) == "string" and init:lower() ~= "gaussian" then
    t.refuse("ValueError", "HiRA: unknown initialization init_weights=%s", peft.types.repr(init))
  end
  return { t.param("hira_A", a, { r, m.in_features }), t.param("hira_B", a, { m.out_features, r }) }
end

peft.define("HiraModel", {
  layer_names = { "hira_A", "hira_B", "hira_embedding_A", "hira_embedding_B" },
  targets = "lora",
  layer = hira_layer,
})
