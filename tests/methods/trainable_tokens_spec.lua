-- TrainableTokensConfig: the token id list (an empty list by default) and
-- the embedding targets.
local peft = require "peft"
local helpers = require "helpers"

describe("TrainableTokensConfig", function()

  it("gives every config its own default list", function()
    local a = peft.TrainableTokensConfig {}
    local b = peft.TrainableTokensConfig {}
    a.token_indices[1] = 5
    assert.are.same({}, b.token_indices)
  end)

  it("keeps the token ids in the order given", function()
    local cfg = peft.TrainableTokensConfig { token_indices = { 32000, 5, 32000 } }
    assert.are.same({ 32000, 5, 32000 }, cfg.token_indices)
  end)

  it("keeps target_modules as given (no set)", function()
    local cfg = peft.TrainableTokensConfig { target_modules = { "embed_tokens", "lm_head" } }
    assert.are.same({ "embed_tokens", "lm_head" }, cfg.target_modules)
    assert.are.equal("embedding", peft.TrainableTokensConfig { target_modules = "embedding" }.target_modules)
  end)

  it("refuses null token_indices", function()
    local err = helpers.error_of(peft.TrainableTokensConfig, { token_indices = peft.null })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("TrainableTokensConfig.token_indices: expected a list of integers, got null", err.message)
  end)

  it("refuses token ids that are not integers", function()
    local err = helpers.error_of(peft.TrainableTokensConfig, { token_indices = { "<pad>" } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('TrainableTokensConfig.token_indices: expected a list of integers (item 1 is a string, expected an integer), got ["<pad>"]',
      err.message)
  end)
end)
