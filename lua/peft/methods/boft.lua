-- BOFT: butterfly-factorised orthogonal fine-tuning.
local peft = require "peft"

local BOFTConfig = peft.declare_config {
  name = "BOFTConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.BOFT,
  doc = "BOFT: butterfly-factorised orthogonal fine-tuning.",
}

local BOFTModel = peft.declare_model { name = "BOFTModel", prefix = "boft_", display = "BOFT" }

peft.register_peft_method {
  name = "boft",
  config_cls = BOFTConfig,
  model_cls = BOFTModel,
  prefix = "boft_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("BOFTConfig", {
  fields = function() return {
    { "boft_block_size", "int", 4,
      "Size of each orthogonal block; set this or boft_block_num, and leave the other 0." },
    { "boft_block_num", "int", 0,
      "Number of orthogonal blocks per layer; set this or boft_block_size, and leave the other 0." },
    { "boft_n_butterfly_factor", "int", 1,
      "Number of butterfly factors (1 is plain OFT; each extra factor doubles the effective block size)." },
    F.target_modules,
    F.exclude_modules,
    { "boft_dropout", "float", 0.0,
      "Probability of replacing a BOFT block by the identity during training (multiplicative dropout)." },
    F.fan_in_fan_out,
    { "bias", "str", "none",
      "Which biases to train: 'none', 'all' or 'boft_only'." },
    F.modules_to_save,
    { "init_weights", "bool", true,
      "Whether to initialise BOFT so it starts as the identity (turning this off is discouraged)." },
    F.layers_to_transform,
    F.layers_pattern,
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    local size, num = self.boft_block_size, self.boft_block_num
    if size == 0 and num == 0 then
      chk.fail("boft_block_size", "boft_block_size and boft_block_num cannot both be 0: set one of them (the"
        .. " other is inferred from the layer size), got boft_block_size=0 and boft_block_num=0")
    end
    if (size ~= 0) == (num ~= 0) then
      chk.fail("boft_block_num", "cannot be set together with boft_block_size, since boft_block_size x"
        .. " boft_block_num is the layer's input size: give one and set the other to 0, got boft_block_size=%s"
        .. " and boft_block_num=%s", require("peft.types").repr(size), require("peft.types").repr(num))
    end
  end,
})

-- BOFTModel: per adapted Linear or Conv2d the butterfly factors boft_R (factors, blocks, b, b), the
-- scale boft_s and a non-persistent permutation buffer boft_P (PEFT's boft/layer.py
-- BOFTLayer.update_layer, Conv2d.update_layer). PEFT sets boft_n_butterfly_factor to 1 when its
-- fbd_cuda extension cannot be built (get_fbd_cuda() is None, as on a host without CUDA);
-- ctx.boft_fbd_cuda says the extension is there.
local t = peft.tuner

-- int(math.log2(n)) for n >= 1
local function log2_floor(n)
  local k = 0
  while n >= 2 do n, k = n // 2, k + 1 end
  return k
end

local function boft_layer(cfg, m, ctx)
  -- boft/model.py _create_new_module: Linear and Conv2d (optionally quantized)
  if m.kind ~= "linear" and m.kind ~= "conv2d" then
    t.refuse("TypeError", "Target module %s is not supported by BOFT; it supports only torch.nn.Linear and "
      .. "torch.nn.Conv2d (optionally quantized)", t.describe(m))
  end
  local bs = t.int_field(cfg, "boft_block_size", "BOFT")
  local bn = t.int_field(cfg, "boft_block_num", "BOFT")
  local factor = t.int_field(cfg, "boft_n_butterfly_factor", "BOFT")
  local notes = {}
  if not ctx.boft_fbd_cuda then
    if factor ~= 1 then
      notes[#notes + 1] = string.format("boft_n_butterfly_factor %d taken as 1: PEFT does so when its fbd_cuda "
        .. "extension cannot be built (no CUDA)", factor)
    end
    factor = 1
  end
  factor = factor - 1
  if factor < 0 then
    t.refuse("ValueError", "You can only specify boft_n_butterfly_factor %d to be a positive integer number.",
      factor + 1)
  end
  local conv = m.kind == "conv2d"
  local dim = m.in_features
  local what = "in_features"
  if conv then
    local k = t.kernel(m)
    dim, what = m.in_features * k * k, "Convolutional kernel dimension"
  end
  if bs == 0 and bn ~= 0 then
    if dim % bn ~= 0 then
      t.refuse("ValueError", "%s (%d) must be divisible by boft_block_num (%d)!", what, dim, bn)
    end
    if factor ~= 0 then
      if bn < 1 then t.refuse("ValueError", "math domain error (math.log2 of boft_block_num %d)", bn) end
      if factor > log2_floor(bn) then
        t.refuse("ValueError", "Invalid combination of boft_n_butterfly_factor (%d) and boft_block_num (%d)!",
          factor + 1, bn)
      end
      if bn % (1 << factor) ~= 0 then
        t.refuse("ValueError", "boft_block_num (%d) must be a multiple of 2 raised to the power of "
          .. "boft_n_butterfly_factor (%d)!", bn, factor + 1)
      end
    end
    bs = dim // bn
  elseif bs ~= 0 and bn == 0 then
    if dim % bs ~= 0 then
      t.refuse("ValueError", "%s (%d) must be divisible by boft_block_size (%d)!", what, dim, bs)
    end
    if factor ~= 0 then
      local span = bs * (1 << factor)
      if dim < span or dim % span ~= 0 then
        t.refuse("ValueError", "Invalid combination of %s (%d), boft_n_butterfly_factor (%d) and boft_block_size "
          .. "(%d)!", what, dim, factor + 1, bs)
      end
    end
    bn = dim // bs
  else
    t.refuse("ValueError", "BOFT: exactly one of boft_block_size and boft_block_num must be non-zero (got "
      .. "boft_block_size=%d, boft_block_num=%d)", bs, bn)
  end
  if factor ~= 0 then
    if bn % 2 ~= 0 then t.refuse("ValueError", "boft_block_num (%d) must be an even number!", bn) end
    if bs % 2 ~= 0 then t.refuse("ValueError", "boft_block_size (%d) must be an even number!", bs) end
  end
  ctx.r = bs
  local a = ctx.adapter
  local out = { t.param("boft_R", a, t.check_dims { factor + 1, bn, bs, bs }),
                t.param("boft_s", a, conv and { 1, m.out_features } or { m.out_features, 1 }),
                t.buffer("boft_P", nil, { factor + 1, dim, dim }, false) }
  notes[#notes + 1] = string.format("BOFT: %d blocks of %d over %d input features, %d butterfly factor(s)", bn, bs,
    dim, factor + 1)
  out.notes = notes
  return out
end

peft.define("BOFTModel", {
  layer_names = { "boft_R", "boft_s" },
  targets = "lora",
  layer = boft_layer,
})
