-- RoadConfig: the variant (RoadVariant) and group_size rules.
local peft = require "peft"
local helpers = require "helpers"

describe("RoadConfig", function()

  it("declares the RoadVariant values", function()
    assert.are.same({ "road_1", "road_2", "road_4" }, peft.config.enum_members("RoadVariant"))
  end)

  it("accepts every variant", function()
    for _, v in ipairs { "road_1", "road_2", "road_4" } do
      assert.are.equal(v, peft.RoadConfig { variant = v }.variant)
    end
  end)

  it("rejects an unknown variant", function()
    local err = helpers.error_of(peft.RoadConfig, { variant = "road_3" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('RoadConfig.variant: must be one of \'road_1\', \'road_2\', \'road_4\', got "road_3"', err.message)
  end)

  it("rejects an odd group_size", function()
    local err = helpers.error_of(peft.RoadConfig, { group_size = 33 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("RoadConfig.group_size: must be a positive even number, got 33", err.message)
  end)

  it("rejects a group_size of zero or less", function()
    local err = helpers.error_of(peft.RoadConfig, { group_size = 0 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("RoadConfig.group_size: must be a positive even number, got 0", err.message)
    err = helpers.error_of(peft.RoadConfig, { group_size = -2 })
    assert.are.equal("RoadConfig.group_size: must be a positive even number, got -2", err.message)
  end)

  it("accepts a small even group_size", function()
    assert.are.equal(2, peft.RoadConfig { group_size = 2 }.group_size)
  end)

  it("keeps a target_modules list as a sorted set", function()
    local cfg = peft.RoadConfig { target_modules = { "v_proj", "q_proj", "v_proj" } }
    assert.are.same({ "q_proj", "v_proj" }, cfg.target_modules)
    assert.are.equal("all-linear", peft.RoadConfig { target_modules = "all-linear" }.target_modules)
  end)
end)
