-- LoHa: low-rank Hadamard product adaptation (LyCORIS).
local peft = require "peft"
local lycoris = require "peft.lycoris"
local rules = require "peft.rules"

local LoHaConfig = peft.declare_config {
  name = "LoHaConfig",
  parent = lycoris.LycorisConfig,
  peft_type = peft.PeftType.LOHA,
  doc = "LoHa: low-rank Hadamard product adaptation (LyCORIS).",
  fields = function() return {
    { "r", "int", 8, "Rank of each of the two low-rank factor pairs." },
    { "alpha", "int", 8, "Scaling numerator: the update is scaled by alpha / r.", number = true },
    { "rank_dropout", "float", 0.0, "Training-time dropout probability applied along the rank dimension." },
    { "module_dropout", "float", 0.0, "Training-time probability of skipping a whole LoHa module." },
    { "use_effective_conv2d", "bool", false,
      "Whether convolutions with kernel size > 1 use the parameter-efficient (FedPara) decomposition." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, a regex matched in full, or 'all-linear'.",
      set = true },
    { "exclude_modules", "Optional[Union[list[str], str]]", nil,
      "Modules never to adapt: names (exact or suffix) or a regex.", set = true },
    { "init_weights", "bool", true,
      "Whether to initialise the adapter so that it starts as a no-op (turning this off is discouraged)." },
    { "layers_to_transform", "Optional[Union[list[int], int]]", nil,
      "Only adapt the layers with these indices (one index or a list)." },
    { "layers_pattern", "Optional[Union[list[str], str]]", nil,
      "Name(s) of the module list holding the layers (e.g. 'layers', 'h'); used with layers_to_transform." },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
  end,
}

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

local LoHaModel = peft.declare_model {
  name = "LoHaModel", prefix = "hada_", display = "LoHa",
  layer_names = { "hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1", "hada_t2" },
  targets = "lora",
  layer = loha_layer,
}

peft.register_peft_method {
  name = "loha",
  config_cls = LoHaConfig,
  model_cls = LoHaModel,
  prefix = "hada_",
  is_mixed_compatible = true,
}

return LoHaConfig
