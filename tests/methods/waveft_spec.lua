-- WaveFTConfig: fields, the layer rules and the wavelet family.
local peft = require "peft"
local helpers = require "helpers"

local function fails(args, message)
  local err = helpers.error_of(peft.WaveFTConfig, args)
  assert.are.equal("ValueError", err.kind)
  assert.are.equal(message, err.message)
end

describe("WaveFTConfig", function()

  it("does not share the default n_frequency_pattern between configs", function()
    local a, b = peft.WaveFTConfig(), peft.WaveFTConfig()
    a.n_frequency_pattern.q = 10
    assert.are.same({}, b.n_frequency_pattern)
  end)

  it("keeps target_modules and exclude_modules lists as sorted sets", function()
    local cfg = peft.WaveFTConfig { target_modules = { "v", "q", "v" }, exclude_modules = { "b", "a" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "a", "b" }, cfg.exclude_modules)
  end)

  describe("layer selection", function()
    it("refuses layers_to_transform with a regex target_modules", function()
      fails({ target_modules = ".*q$", layers_to_transform = 3 },
        'WaveFTConfig.layers_to_transform: must be null when target_modules is a regular expression (".*q$"), got 3')
    end)

    it("refuses layers_pattern with a regex target_modules", function()
      fails({ target_modules = ".*q$", layers_pattern = "h" },
        'WaveFTConfig.layers_pattern: must be null when target_modules is a regular expression (".*q$"), got "h"')
    end)

    it("needs layers_to_transform with layers_pattern", function()
      fails({ layers_pattern = "layers" },
        'WaveFTConfig.layers_pattern: needs layers_to_transform to be set as well, got "layers"')
    end)

    it("accepts layers_pattern with layers_to_transform and a list of targets", function()
      local cfg = peft.WaveFTConfig { target_modules = { "q" }, layers_pattern = "layers", layers_to_transform = { 0, 1 } }
      assert.are.same({ 0, 1 }, cfg.layers_to_transform)
    end)
  end)

  describe("wavelet_family", function()
    it("accepts every supported family", function()
      for _, name in ipairs { "db1", "db38", "sym2", "sym20", "coif1", "coif17" } do
        assert.are.equal(name, peft.WaveFTConfig { wavelet_family = name }.wavelet_family)
      end
    end)

    it("refuses an unsupported family", function()
      for _, name in ipairs { "db0", "db39", "sym1", "coif18", "haar", "DB1" } do
        fails({ wavelet_family = name }, "WaveFTConfig.wavelet_family: unsupported wavelet family; expected one of"
          .. ' db1-db38, sym2-sym20 or coif1-coif17, got "' .. name .. '"')
      end
    end)

    it("is checked on assignment too", function()
      local cfg = peft.WaveFTConfig()
      local err = helpers.error_of(function() cfg.wavelet_family = "haar" end)
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("db1", cfg.wavelet_family)
    end)
  end)

  it("keeps bias as a free string, as PEFT does", function()
    assert.are.equal("waveft_only", peft.WaveFTConfig { bias = "waveft_only" }.bias)
  end)
end)
