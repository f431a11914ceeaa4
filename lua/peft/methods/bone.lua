-- Bone: block-affine adaptation (removed in PEFT 0.19, replaced by MiSS).
--
-- Declared as PEFT last had it (src/peft/tuners/bone/config.py at the parent
-- of 2e49b6f68, the commit that removed it) so that old Bone checkpoints still
-- load. cfg:migrate() gives the equivalent MissConfig, doing to the config
-- what PEFT's scripts/convert-bone-to-miss.py does: only peft_type changes.
local peft = require "peft"

local BoneConfig = peft.declare_config {
  name = "BoneConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.BONE,
  doc = "Bone: block-affine adaptation (removed in PEFT 0.19, replaced by MiSS).",
}

local BoneModel = peft.declare_model { name = "BoneModel", prefix = "bone_", display = "Bone" }

peft.register_peft_method {
  name = "bone",
  config_cls = BoneConfig,
  model_cls = BoneModel,
  prefix = "bone_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

peft.define("BoneConfig", {
  fields = function() return {
    { "r", "int", 64,
      "Block size of the Bone update (an even value is needed by the default initialisation)." },
    F.target_modules,
    F.exclude_modules,
    { "init_weights", 'bool | Literal["bat"]', true,
      "Bone variant: true (the Bone structure) or 'bat' (the Bat structure)." },
    F.layers_to_transform,
    F.layers_pattern_str,
    { "bias", "str", "none", "Which biases to train: 'none', 'all' or 'bone_only'." },
    F.modules_to_save,
  } end,
  post_init = function(self, chk)
    rules.regex_excludes_layers(self, chk)
    chk.warn("Bone is deprecated and no longer part of PEFT (removed in v0.19.0; newer PEFT cannot load it); "
      .. "use MissConfig instead: cfg:migrate() or `peft migrate PATH` converts this config")
  end,
  methods = {
    --- cfg:migrate() -> the equivalent MissConfig. Like PEFT's
    -- convert-bone-to-miss.py, every saved key is kept as it is (peft_version
    -- included) and only peft_type becomes MISS; MiSS's own fields
    -- (miss_dropout, mini_r) take their defaults. Unknown keys kept from a
    -- file stay unknown keys of the new config.
    migrate = function(self)
      local MissConfig = peft.MissConfig
      local extra = self:extra()
      local d = self:to_dict()
      for k in pairs(extra) do d[k] = nil end
      d.peft_type = nil -- MissConfig sets MISS
      return peft.config.construct(MissConfig, d, { extra = extra })
    end,
  },
})

-- BoneModel: PEFT at the commit this runtime follows has no Bone any more; it fails on the
-- config already (KeyError 'BONE' from PEFT_TYPE_TO_CONFIG_MAPPING), so get_peft_model refuses
-- every Bone config the same way and points to MiSS.
peft.define("BoneModel", {
  build = function(plan, cfg, ctx)
    peft.tuner.refuse("KeyError", "'BONE': Bone was removed from PEFT in v0.19.0 and PEFT no longer knows this "
      .. "peft_type, so it cannot build this adapter; MiSS is its successor: convert the config with "
      .. "cfg:migrate() or `peft migrate PATH` (only peft_type changes) and plan the MissConfig instead")
  end,
})
