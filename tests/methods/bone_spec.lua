-- BoneConfig as PEFT last had it (before 2e49b6f68 removed it): fields, sets,
-- regex/layers rules, the deprecation warning, its default adapter_config.json,
-- and cfg:migrate() to MissConfig (what scripts/convert-bone-to-miss.py does).
local peft = require "peft"
local helpers = require "helpers"

local DEPRECATED = "BoneConfig: Bone is deprecated and no longer part of PEFT (removed in v0.19.0; newer PEFT "
  .. "cannot load it); use MissConfig instead: cfg:migrate() or `peft migrate PATH` converts this config"

local function bone(args)
  local warnings, ok, res = peft.capture_warnings(function() return peft.BoneConfig(args) end)
  if not ok then error(res, 0) end
  return res, warnings
end

describe("BoneConfig", function()
  it("is registered for BONE with PEFT's last field list", function()
    assert.are.equal(peft.BoneConfig, peft.PEFT_TYPE_TO_CONFIG_MAPPING.BONE)
    local names = {}
    for _, f in ipairs(peft.BoneConfig.fields) do
      if f.declared_in == "BoneConfig" then names[#names + 1] = f.name end
    end
    assert.are.same({ "r", "target_modules", "exclude_modules", "init_weights", "layers_to_transform",
      "layers_pattern", "bias", "modules_to_save" }, names)
    assert.are.equal('bool | Literal["bat"]', peft.BoneConfig:field("init_weights").type)
  end)

  it("warns, every time, that Bone is deprecated", function()
    local cfg, warnings = bone {}
    assert.are.equal("BONE", cfg.peft_type)
    assert.are.same({ DEPRECATED }, warnings)
  end)

  it("writes the adapter_config.json that PEFT wrote for BoneConfig()", function()
    local cfg = bone {}
    local expected = table.concat({
      '{',
      '  "auto_mapping": null,',
      '  "base_model_name_or_path": null,',
      '  "bias": "none",',
      '  "exclude_modules": null,',
      '  "inference_mode": false,',
      '  "init_weights": true,',
      '  "layers_pattern": null,',
      '  "layers_to_transform": null,',
      '  "modules_to_save": null,',
      '  "peft_type": "BONE",',
      '  "peft_version": "' .. peft.PEFT_VERSION .. '",',
      '  "r": 64,',
      '  "revision": null,',
      '  "target_modules": null,',
      '  "task_type": null',
      '}',
    }, "\n")
    assert.are.equal(expected, cfg:to_json())
    local d = cfg:to_dict()
    assert.are.equal(peft.null, d.target_modules)
    assert.are.equal(64, d.r)
    assert.are.equal("BONE", d.peft_type)
  end)

  it("keeps target_modules and exclude_modules as sorted sets", function()
    local cfg = bone { target_modules = { "v", "q", "v" }, exclude_modules = { "o", "k" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "k", "o" }, cfg.exclude_modules)
  end)

  it("accepts init_weights true, false or 'bat' but not MiSS's 'mini'", function()
    assert.are.equal("bat", bone { init_weights = "bat" }.init_weights)
    assert.is_false(bone { init_weights = false }.init_weights)
    local err = helpers.error_of(bone, { init_weights = "mini" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal([[BoneConfig.init_weights: expected a boolean or 'bat', got "mini"]], err.message)
  end)

  it("rejects layers_to_transform with a regex target_modules", function()
    local err = helpers.error_of(bone, { target_modules = ".*q$", layers_to_transform = { 0 } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('BoneConfig.layers_to_transform: must be null when target_modules is a regular expression '
      .. '(".*q$"), got [0]', err.message)
  end)

  it("rejects layers_pattern with a regex target_modules", function()
    local err = helpers.error_of(bone, { target_modules = ".*q$", layers_pattern = "layers" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('BoneConfig.layers_pattern: must be null when target_modules is a regular expression '
      .. '(".*q$"), got "layers"', err.message)
  end)

  it("accepts the layer selection with a list target_modules", function()
    local cfg = bone { target_modules = { "q" }, layers_to_transform = 2, layers_pattern = "layers" }
    assert.are.equal(2, cfg.layers_to_transform)
  end)

  describe("migrate()", function()
    it("turns the default BoneConfig into the default MissConfig", function()
      local miss = bone {}:migrate()
      assert.are.equal(peft.MissConfig, miss:get_class())
      assert.are.equal("MISS", miss.peft_type)
      assert.are.equal(peft.MissConfig {}:to_json(), miss:to_json())
    end)

    it("keeps every Bone setting and gives MiSS's own fields their defaults", function()
      local cfg = bone { r = 32, target_modules = { "v", "q" }, exclude_modules = "lm_head", init_weights = "bat",
        layers_to_transform = { 0, 1 }, layers_pattern = "layers", bias = "all", modules_to_save = { "score" },
        task_type = "CAUSAL_LM", base_model_name_or_path = "org/model", revision = "main", inference_mode = true }
      local warnings, ok, miss = peft.capture_warnings(function() return cfg:migrate() end)
      assert.is_true(ok)
      assert.are.same({}, warnings)
      local want = cfg:to_dict()
      want.peft_type = "MISS"
      want.miss_dropout = 0.0
      want.mini_r = 1
      assert.are.same(want, miss:to_dict())
      assert.are.equal("bat", miss.init_weights)
      assert.are.same({ "q", "v" }, miss.target_modules)
      -- the Bone config is unchanged
      assert.are.equal("BONE", cfg.peft_type)
    end)

    it("keeps the peft_version and the unknown keys of a loaded Bone file, like the conversion script", function()
      local text = [[{
  "peft_type": "BONE",
  "peft_version": "0.17.0",
  "r": 16,
  "target_modules": ["q_proj", "v_proj"],
  "init_weights": true,
  "some_future_key": 3
}]]
      local _, ok, cfg = peft.capture_warnings(function() return peft.PeftConfig.from_json(text) end)
      assert.is_true(ok)
      assert.are.equal(peft.BoneConfig, cfg:get_class())
      local miss = cfg:migrate()
      assert.are.equal("MISS", miss.peft_type)
      assert.are.equal("0.17.0", miss.peft_version)
      assert.are.equal(16, miss.r)
      assert.are.same({ some_future_key = 3 }, miss:extra())
      local d = miss:to_dict()
      assert.are.equal(3, d.some_future_key)
      -- and the result loads back as a MissConfig
      local again = peft.PeftConfig.from_json(miss:to_json(), { quiet = true })
      assert.are.equal(peft.MissConfig, again:get_class())
      assert.are.equal(miss:to_json(), again:to_json())
    end)
  end)
end)
