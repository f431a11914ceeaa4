-- RoAd: 2D rotary adaptation with learned rotation angles and scales.
local peft = require "peft"

-- PEFT's RoadVariant literal alias, declared so the annotation resolves.
peft.config.declare_enum("RoadVariant", { "road_1", "road_2", "road_4" })

local RoadConfig = peft.declare_config {
  name = "RoadConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.ROAD,
  doc = "RoAd: 2D rotary adaptation with learned rotation angles and scales.",
}

local RoadModel = peft.declare_model { name = "RoadModel", prefix = "road_", display = "RoAd" }

peft.register_peft_method {
  name = "road",
  config_cls = RoadConfig,
  model_cls = RoadModel,
  prefix = "road_",
  is_mixed_compatible = true,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"

local VARIANTS = require("peft.registry").enums.RoadVariant

peft.define("RoadConfig", {
  fields = function() return {
    { "variant", "Union[str, RoadVariant]", "road_1",
      "Parameter sharing of the rotations: 'road_1' (fewest), 'road_2' (2x) or 'road_4' (4x)." },
    { "group_size", "int", 64,
      "Size of the element groups paired up for rotation; positive, even, dividing the hidden size." },
    { "init_weights", "bool", true,
      "Whether to start from RoAd's identity rotations (turning this off is for tests)." },
    F.target_modules,
    F.modules_to_save,
  } end,
  post_init = function(self, chk)
    -- target_modules becomes a set (set = true).
    local ok = false
    for _, v in ipairs(VARIANTS) do
      if self.variant == v then ok = true end
    end
    if not ok then
      chk.fail_value("variant", "must be one of 'road_1', 'road_2', 'road_4'")
    end
    local g = self.group_size
    if g <= 0 or g % 2 ~= 0 then
      chk.fail_value("group_size", "must be a positive even number")
    end
  end,
})

-- RoadModel: per layer a rotation angle and a scale for each pair of output features, shared
-- across 2 or 4 entries by the variant (PEFT's road/model.py _create_new_module; layer.py
-- dispatch_default, RoadLayer.update_layer).
local t = peft.tuner

local SIZES = { road_1 = 1, road_2 = 2, road_4 = 4 }

peft.define("RoadModel", {
  layer_names = { "road_theta", "road_alpha" },
  targets = "lora",
  layer = function(cfg, m, ctx)
    if m.kind ~= "linear" then t.refuse_kind("RoAd", m, "only torch.nn.Linear", "ValueError") end
    local g = t.int_field(cfg, "group_size", "RoAd")
    local fout = m.out_features
    if fout % g ~= 0 then
      t.refuse("ValueError", "RoAd: the out_features of %s (%d) must be divisible by group_size (%d)", m.name, fout, g)
    end
    local f = SIZES[cfg.variant]
    if not f then
      t.refuse("ValueError", "Unsupported variant %s for RoadLayer; supported: road_1, road_2, road_4",
        peft.types.repr(cfg.variant))
    end
    local size = fout * f // 2
    return { t.param("road_theta", ctx.adapter, { size }), t.param("road_alpha", ctx.adapter, { size }) }
  end,
})
