-- Every built-in config class, built with no arguments (or the minimal ones
-- PEFT needs), writes exactly what PEFT writes: same values, same bytes.
-- The fixture holds PEFT's own output; only peft_version differs (ours
-- records the PEFT version and commit whose schema we implement).
local peft = require "peft"
local helpers = require "helpers"

local fixture = peft.core.json_decode(helpers.read("tests/fixtures/peft_defaults.json")).configs

local names = {}
for name in pairs(fixture) do names[#names + 1] = name end
table.sort(names)

describe("defaults of every config class", function()
  it("covers the 44 classes of current PEFT (BoneConfig is tested on its own)", function()
    assert.are.equal(44, #names)
  end)

  for _, name in ipairs(names) do
    local fx = fixture[name]
    describe(name, function()
      it("is registered for " .. fx.peft_type, function()
        assert.are.equal(peft[name], peft.PEFT_TYPE_TO_CONFIG_MAPPING[fx.peft_type])
        assert.are.equal(fx.method, peft.method(fx.peft_type).name)
      end)

      if fx.error then
        it("refuses to build without arguments, as PEFT does", function()
          local err = helpers.error_of(peft[name])
          assert.are.equal("ValueError", err.kind)
        end)
      end

      it("round-trips: build, save, load, save gives the same bytes and an equal config", function()
        local dir = helpers.tmpdir()
        local cfg = peft[name].new(fx.kwargs, { quiet = true })
        cfg:save_pretrained(dir)
        local first = helpers.read(dir .. "/adapter_config.json")
        local loaded = peft.PeftConfig.from_pretrained(dir, { quiet = true })
        assert.are.equal(peft[name], loaded:get_class())
        assert.are.equal(cfg, loaded)
        loaded:save_pretrained(dir)
        assert.are.equal(first, helpers.read(dir .. "/adapter_config.json"))
        helpers.cleanup()
      end)

      it("writes PEFT's adapter_config.json byte for byte", function()
        local cfg = peft[name].new(fx.kwargs, { quiet = true })
        local expected = fx.json:gsub('"peft_version": "[^"]*"',
          '"peft_version": "' .. peft.PEFT_VERSION .. '"')
        assert.are.equal(expected, cfg:to_json())
      end)
    end)
  end
end)
