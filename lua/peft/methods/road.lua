-- RoAd: 2D rotary adaptation with learned rotation angles and scales.
local peft = require "peft"

-- PEFT's RoadVariant literal alias, declared so the annotation resolves.
local VARIANTS = { "road_1", "road_2", "road_4" }
peft.config.declare_enum("RoadVariant", VARIANTS)

local RoadConfig = peft.declare_config {
  name = "RoadConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.ROAD,
  doc = "RoAd: 2D rotary adaptation with learned rotation angles and scales.",
  fields = function() return {
    { "variant", "Union[str, RoadVariant]", "road_1",
      "Parameter sharing of the rotations: 'road_1' (fewest), 'road_2' (2x) or 'road_4' (4x)." },
    { "group_size", "int", 64,
      "Size of the element groups paired up for rotation; positive, even, dividing the hidden size." },
    { "init_weights", "bool", true,
      "Whether to start from RoAd's identity rotations (turning this off is for tests)." },
    { "target_modules", "Optional[Union[list[str], str]]", nil,
      "Modules to adapt: names matched exactly or as a suffix, a regex matched in full, or 'all-linear'.",
      set = true },
    { "modules_to_save", "Optional[list[str]]", nil,
      "Extra modules to train fully and save with the adapter (e.g. a classifier head)." },
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
}

local RoadModel = peft.declare_model { name = "RoadModel", prefix = "road_" }

peft.register_peft_method {
  name = "road",
  config_cls = RoadConfig,
  model_cls = RoadModel,
  prefix = "road_",
  is_mixed_compatible = true,
}

return RoadConfig
