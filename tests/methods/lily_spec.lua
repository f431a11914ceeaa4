-- LilyConfig: fields, the layer rule, stride_A and num_B.
local peft = require "peft"
local helpers = require "helpers"

local function fails(args, message, kind)
  local err = helpers.error_of(peft.LilyConfig, args)
  assert.are.equal(kind or "ValueError", err.kind)
  assert.are.equal(message, err.message)
end

describe("LilyConfig", function()

  it("keeps target_modules and exclude_modules lists as sorted sets", function()
    local cfg = peft.LilyConfig { target_modules = { "v", "q", "v" }, exclude_modules = { "b", "a" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "a", "b" }, cfg.exclude_modules)
  end)

  it("needs layers_to_transform with layers_pattern", function()
    fails({ layers_pattern = { "layers", "h" } },
      'LilyConfig.layers_pattern: needs layers_to_transform to be set as well, got ["layers", "h"]')
    local cfg = peft.LilyConfig { layers_pattern = { "layers" }, layers_to_transform = 0 }
    assert.are.equal(0, cfg.layers_to_transform)
  end)

  it("allows layers_to_transform with a regex target_modules (Lily has no such rule)", function()
    local cfg = peft.LilyConfig { target_modules = ".*q$", layers_to_transform = 1 }
    assert.are.equal(1, cfg.layers_to_transform)
  end)

  it("needs stride_A of at least 1", function()
    fails({ stride_A = 0 }, "LilyConfig.stride_A: must be at least 1, got 0")
    assert.are.equal(4, peft.LilyConfig { stride_A = 4 }.stride_A)
  end)

  it("needs num_B of at least 2", function()
    fails({ num_B = 1 },
      "LilyConfig.num_B: must be at least 2, or the router that mixes the B adapters cannot be trained, got 1")
    assert.are.equal(2, peft.LilyConfig { num_B = 2 }.num_B)
  end)

  it("rejects a wrongly typed field", function()
    fails({ stride_A = "2" }, 'LilyConfig.stride_A: expected an integer, got "2" (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)', "TypeError")
  end)
end)
