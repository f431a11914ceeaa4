-- Bone: block-affine adaptation (removed in PEFT 0.19, replaced by MiSS).
local peft = require "peft"

local BoneConfig = peft.declare_config {
  name = "BoneConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.BONE,
  doc = "Bone: block-affine adaptation (removed in PEFT 0.19, replaced by MiSS).",
  fields = {},
}

local BoneModel = peft.declare_model { name = "BoneModel", prefix = "bone_" }

peft.register_peft_method {
  name = "bone",
  config_cls = BoneConfig,
  model_cls = BoneModel,
  prefix = "bone_",
  is_mixed_compatible = false,
}

return BoneConfig
