-- LoKr: low-rank Kronecker product adaptation (LyCORIS).
local peft = require "peft"

local LoKrConfig = peft.declare_config {
  name = "LoKrConfig",
  parent = peft.LycorisConfig,
  peft_type = peft.PeftType.LOKR,
  doc = "LoKr: low-rank Kronecker product adaptation (LyCORIS).",
}

local LoKrModel = peft.declare_model { name = "LoKrModel", prefix = "lokr_", display = "LoKr" }

peft.register_peft_method {
  name = "lokr",
  config_cls = LoKrConfig,
  model_cls = LoKrModel,
  prefix = "lokr_",
  is_mixed_compatible = true,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local lycoris = require "peft.lycoris"
local rules = require "peft.rules"

peft.define("LoKrConfig", {
  fields = function()
    return lycoris.fields("LoKr", "Rank of the low-rank factorisation inside the Kronecker product.", {
      { "decompose_both", "bool", false,
        "Whether the left Kronecker factor is also decomposed into a low-rank product." },
      { "decompose_factor", "int", -1,
        "Factor used to split the weight shape between the two Kronecker factors (-1: automatic)." },
      { "rank_dropout_scale", "bool", false, "Whether rank dropout rescales the kept entries during training." },
    }, { "init_weights", "Union[bool, Literal['lycoris']]", true,
         "Adapter initialisation: true (starts as a no-op), 'lycoris' (LyCORIS-style) or false (discouraged)." })
  end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
  end,
})

-- LoKrModel: the weight update is the Kronecker product of w1 (out_l x in_m) and w2 (out_k x in_n),
-- each kept whole or as a rank-r pair (PEFT's lokr/model.py _create_and_replace; layer.py
-- factorization, LoKrLayer.update_layer, create_adapter_parameters).
local t = peft.tuner

-- PEFT's factorization(dimension, factor): m <= n with m * n == dimension, m as close to the
-- factor (or to the square root for -1) as the divisors allow
local function factorization(dim, factor)
  if factor > 0 and dim % factor == 0 then return factor, dim // factor end
  if factor == -1 then factor = dim end
  local m, n = 1, dim
  local length = m + n
  while m < n do
    local new_m = m + 1
    while dim % new_m ~= 0 do new_m = new_m + 1 end
    local new_n = dim // new_m
    if new_m + new_n > length or new_m > factor then break end
    m, n = new_m, new_n
  end
  if m > n then m, n = n, m end
  return m, n
end

local function lokr_layer(cfg, m, ctx)
  local a = ctx.adapter
  local r = lycoris.rank_alpha(cfg, ctx, "LoKr")
  lycoris.check_layer("LoKr", m, r)
  local factor = t.get(cfg, "decompose_factor")
  if math.type(factor) ~= "integer" then
    t.refuse("TypeError", "LoKr: decompose_factor must be an integer, got %s", peft.types.repr(factor))
  end
  -- in_features of a conv weight is in_channels // groups
  local in_m, in_n = factorization(m.in_features, factor)
  local out_l, out_k = factorization(m.out_features, factor)
  -- r < max(...) / 2 with an integer r
  local use_w1 = not (t.truthy(t.get(cfg, "decompose_both")) and 2 * r < math.max(out_l, in_m))
  local use_w2 = not (2 * r < math.max(out_k, in_n))
  local out = {}
  if use_w1 then
    out[#out + 1] = t.param("lokr_w1", a, { out_l, in_m })
  else
    out[#out + 1] = t.param("lokr_w1_a", a, { out_l, r })
    out[#out + 1] = t.param("lokr_w1_b", a, { r, in_m })
  end
  if m.kind == "conv2d" then
    local effective, kh, kw = lycoris.effective_conv(cfg, m)
    if use_w2 then
      out[#out + 1] = t.param("lokr_w2", a, { out_k, in_n, kh, kw })
    elseif effective then
      out[#out + 1] = t.param("lokr_w2_a", a, { r, out_k })
      out[#out + 1] = t.param("lokr_w2_b", a, { r, in_n })
      out[#out + 1] = t.param("lokr_t2", a, { r, r, kh, kw })
    else
      out[#out + 1] = t.param("lokr_w2_a", a, { out_k, r })
      out[#out + 1] = t.param("lokr_w2_b", a, { r, in_n * kh * kw })
    end
  elseif use_w2 then
    out[#out + 1] = t.param("lokr_w2", a, { out_k, in_n })
  else
    out[#out + 1] = t.param("lokr_w2_a", a, { out_k, r })
    out[#out + 1] = t.param("lokr_w2_b", a, { r, in_n })
  end
  return out
end

peft.define("LoKrModel", {
  layer_names = { "lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a", "lokr_w2_b", "lokr_t2" },
  targets = "lora",
  layer = lokr_layer,
})
