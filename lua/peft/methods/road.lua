-- RoAd: 2D rotary adaptation with learned rotation angles and scales.
local peft = require "peft"

local RoadConfig = peft.declare_config {
  name = "RoadConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.ROAD,
  doc = "RoAd: 2D rotary adaptation with learned rotation angles and scales.",
  fields = {},
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
