-- BOFTConfig: fields, the layer rule and block size / block count.
local peft = require "peft"
local helpers = require "helpers"

local function fails(args, message)
  local err = helpers.error_of(peft.BOFTConfig, args)
  assert.are.equal("ValueError", err.kind)
  assert.are.equal(message, err.message)
end

describe("BOFTConfig", function()

  it("keeps target_modules and exclude_modules lists as sorted sets", function()
    local cfg = peft.BOFTConfig { target_modules = { "v", "q", "v" }, exclude_modules = { "b", "a" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "a", "b" }, cfg.exclude_modules)
  end)

  it("needs layers_to_transform with layers_pattern", function()
    fails({ layers_pattern = "h" }, 'BOFTConfig.layers_pattern: needs layers_to_transform to be set as well, got "h"')
    assert.are.equal(0, peft.BOFTConfig { layers_pattern = "h", layers_to_transform = 0 }.layers_to_transform)
  end)

  it("refuses boft_block_size and boft_block_num both 0", function()
    fails({ boft_block_size = 0 }, "BOFTConfig.boft_block_size: boft_block_size and boft_block_num cannot both be 0:"
      .. " set one of them (the other is inferred from the layer size), got boft_block_size=0 and boft_block_num=0")
  end)

  it("refuses boft_block_size and boft_block_num both set", function()
    fails({ boft_block_num = 8 }, "BOFTConfig.boft_block_num: cannot be set together with boft_block_size, since"
      .. " boft_block_size x boft_block_num is the layer's input size: give one and set the other to 0,"
      .. " got boft_block_size=4 and boft_block_num=8")
  end)

  it("accepts either one alone", function()
    local cfg = peft.BOFTConfig { boft_block_size = 0, boft_block_num = 8 }
    assert.are.equal(8, cfg.boft_block_num)
    assert.are.equal(16, peft.BOFTConfig { boft_block_size = 16 }.boft_block_size)
  end)

  it("keeps bias as a free string, as PEFT does", function()
    assert.are.equal("boft_only", peft.BOFTConfig { bias = "boft_only" }.bias)
  end)
end)
