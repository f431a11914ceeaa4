-- LoHa: low-rank Hadamard product adaptation (LyCORIS).
local peft = require "peft"

-- LycorisConfig, the base of the LyCORIS methods (LoHa, LoKr): declared here, as LoHa is the
-- first of them to run (peft.lycoris holds what they share besides)
peft.declare_config {
  name = "LycorisConfig",
  doc = "Base class of the LyCORIS family of adapters (LoHa, LoKr).",
  fields = function() return {
    { "rank_pattern", "Optional[dict]", {},
      "Per-module rank overrides: module name or regex -> rank used instead of r." },
    { "alpha_pattern", "Optional[dict]", {},
      "Per-module alpha overrides: module name or regex -> alpha used instead of alpha." },
  } end,
}

local LoHaConfig = peft.declare_config {
  name = "LoHaConfig",
  parent = peft.LycorisConfig,
  peft_type = peft.PeftType.LOHA,
  doc = "LoHa: low-rank Hadamard product adaptation (LyCORIS).",
}

local LoHaModel = peft.declare_model { name = "LoHaModel", prefix = "hada_", display = "LoHa" }

peft.register_peft_method {
  name = "loha",
  config_cls = LoHaConfig,
  model_cls = LoHaModel,
  prefix = "hada_",
  is_mixed_compatible = true,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local lycoris = require "peft.lycoris"
local rules = require "peft.rules"

peft.define("LoHaConfig", {
  fields = function()
    return lycoris.fields("LoHa", "Rank of each of the two low-rank factor pairs.", {},
      { "init_weights", "bool", true,
        "Whether to initialise the adapter so that it starts as a no-op (turning this off is discouraged)." })
  end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
  end,
})

-- LoHaModel: two low-rank pairs (w1_a w1_b, w2_a w2_b) whose products are multiplied element-wise;
-- convolutions with use_effective_conv2d get rank-r cores t1, t2 instead (PEFT's loha/model.py
-- _create_and_replace; layer.py LoHaLayer.update_layer, create_adapter_parameters).
local t = peft.tuner

local function loha_layer(cfg, m, ctx)
  local a = ctx.adapter
  local r = lycoris.rank_alpha(cfg, ctx, "LoHa")
  lycoris.check_layer("LoHa", m, r)
  local rows, cols = m.out_features, m.in_features
  if m.kind == "conv2d" then
    -- in_features of a conv weight is in_channels // groups
    local effective, kh, kw = lycoris.effective_conv(cfg, m)
    if effective then
      return { t.param("hada_w1_a", a, { r, rows }), t.param("hada_w1_b", a, { r, cols }),
               t.param("hada_w2_a", a, { r, rows }), t.param("hada_w2_b", a, { r, cols }),
               t.param("hada_t1", a, { r, r, kh, kw }), t.param("hada_t2", a, { r, r, kh, kw }) }
    end
    cols = cols * kh * kw
  end
  return { t.param("hada_w1_a", a, { rows, r }), t.param("hada_w1_b", a, { r, cols }),
           t.param("hada_w2_a", a, { rows, r }), t.param("hada_w2_b", a, { r, cols }) }
end

peft.define("LoHaModel", {
  layer_names = { "hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1", "hada_t2" },
  targets = "lora",
  layer = loha_layer,
})
