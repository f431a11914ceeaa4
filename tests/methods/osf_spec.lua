-- OSFConfig: effective_rank as count or fraction, the rank_pattern and
-- the compatibility fields.
local peft = require "peft"
local helpers = require "helpers"

describe("OSFConfig", function()

  it("takes effective_rank as a count or a fraction", function()
    assert.are.equal(16, peft.OSFConfig { effective_rank = 16 }.effective_rank)
    assert.are.equal("integer", math.type(peft.OSFConfig { effective_rank = 16 }.effective_rank))
    assert.are.equal(0.5, peft.OSFConfig { effective_rank = 0.5 }.effective_rank)
  end)

  it("rejects an effective_rank that is not a number", function()
    local err = helpers.error_of(peft.OSFConfig, { effective_rank = "half" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('OSFConfig.effective_rank: expected an integer, a number or null, got "half"', err.message)
  end)

  it("keeps target_modules as given (no set)", function()
    local cfg = peft.OSFConfig { target_modules = { "v_proj", "q_proj", "v_proj" } }
    assert.are.same({ "v_proj", "q_proj", "v_proj" }, cfg.target_modules)
    assert.are.equal("all-linear", peft.OSFConfig { target_modules = "all-linear" }.target_modules)
  end)

  it("takes a rank_pattern of counts and fractions", function()
    local cfg = peft.OSFConfig { rank_pattern = { ["q_proj"] = 8, [".*mlp.*"] = 0.25 } }
    assert.are.same({ ["q_proj"] = 8, [".*mlp.*"] = 0.25 }, cfg.rank_pattern)
  end)

  it("rejects a rank_pattern value that is not a number", function()
    local err = helpers.error_of(peft.OSFConfig, { rank_pattern = { q_proj = "8" } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('OSFConfig.rank_pattern: expected an object whose values are integers or numbers or null (value of "q_proj" is a string, expected an integer or a number), got {"q_proj": "8"}',
      err.message)
  end)

  it("accepts the ignored compatibility fields", function()
    local cfg = peft.OSFConfig { init_weights = true, modules_to_save = { "classifier" },
      target_svd_config = { ["lin0.weight"] = 8 } }
    assert.is_true(cfg.init_weights)
    assert.are.same({ ["lin0.weight"] = 8 }, cfg.target_svd_config)
  end)

  it("wants integer ranks in target_svd_config", function()
    local err = helpers.error_of(peft.OSFConfig, { target_svd_config = { ["lin0.weight"] = 0.5 } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('OSFConfig.target_svd_config: expected an object whose values are integers or null (value of "lin0.weight" is a float, expected an integer), got {"lin0.weight": 0.5}',
      err.message)
  end)
end)
