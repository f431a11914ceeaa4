-- AdamssConfig: fields, init_weights normalisation and the ASA rules.
local peft = require "peft"
local helpers = require "helpers"

describe("AdamssConfig", function()

  it("keeps a list of target_modules as a sorted set and a string as it is", function()
    assert.are.same({ "k", "q" }, peft.AdamssConfig { target_modules = { "q", "k", "q" } }.target_modules)
    assert.are.equal(".*q$", peft.AdamssConfig { target_modules = ".*q$" }.target_modules)
  end)

  it("does not turn layers_pattern or modules_to_save into sets", function()
    local cfg = peft.AdamssConfig { modules_to_save = { "z", "a", "z" } }
    assert.are.same({ "z", "a", "z" }, cfg.modules_to_save)
  end)

  describe("init_weights", function()
    it("accepts 'orthogonal' and null", function()
      assert.are.equal("orthogonal", peft.AdamssConfig { init_weights = "orthogonal" }.init_weights)
      assert.is_nil(peft.AdamssConfig { init_weights = peft.null }.init_weights)
    end)

    it("reads false as null, as older configs wrote it", function()
      local cfg = peft.AdamssConfig { init_weights = false }
      assert.is_nil(cfg.init_weights)
      assert.truthy(cfg:to_json():find('"init_weights": null', 1, true))
    end)

    it("loads a file with init_weights false", function()
      local cfg = peft.from_json('{"peft_type": "ADAMSS", "init_weights": false}')
      assert.are.equal("AdamssConfig", cfg:get_class().name)
      assert.is_nil(cfg.init_weights)
    end)

    it("refuses true", function()
      local err = helpers.error_of(peft.AdamssConfig, { init_weights = true })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("AdamssConfig.init_weights: expected 'orthogonal' or null (false is read as null), got true",
        err.message)
    end)

    it("refuses another method", function()
      local err = helpers.error_of(peft.AdamssConfig, { init_weights = "gaussian" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal([[AdamssConfig.init_weights: expected 'orthogonal', a boolean or null, got "gaussian"]], err.message)
    end)
  end)

  describe("with use_asa", function()
    it("accepts the defaults", function()
      local cfg = peft.AdamssConfig { use_asa = true }
      assert.is_true(cfg.use_asa)
    end)

    it("ignores the ASA settings when use_asa is off", function()
      local cfg = peft.AdamssConfig { mask_interval = 0, init_warmup = 10, final_warmup = 5,
        asa_target_subspaces = 0, asa_schedule_exponent = 0.0 }
      assert.are.equal(0, cfg.mask_interval)
    end)

    it("needs a positive mask_interval", function()
      local err = helpers.error_of(peft.AdamssConfig, { use_asa = true, mask_interval = 0 })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("AdamssConfig.mask_interval: must be a positive integer when use_asa is true, got 0",
        err.message)
      assert.are.equal(1, peft.AdamssConfig { use_asa = true, mask_interval = 1 }.mask_interval)
    end)

    it("needs init_warmup below final_warmup", function()
      local err = helpers.error_of(peft.AdamssConfig, { use_asa = true, init_warmup = 200, final_warmup = 200 })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("AdamssConfig.init_warmup: must be smaller than final_warmup when use_asa is true,"
        .. " got init_warmup=200 and final_warmup=200", err.message)
      local cfg = peft.AdamssConfig { use_asa = true, init_warmup = 199, final_warmup = 200 }
      assert.are.equal(199, cfg.init_warmup)
    end)

    it("needs a positive asa_target_subspaces", function()
      local err = helpers.error_of(peft.AdamssConfig, { use_asa = true, asa_target_subspaces = -3 })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("AdamssConfig.asa_target_subspaces: must be a positive integer when use_asa is true, got -3",
        err.message)
      assert.are.equal(1, peft.AdamssConfig { use_asa = true, asa_target_subspaces = 1 }.asa_target_subspaces)
    end)

    it("needs a positive asa_schedule_exponent", function()
      local err = helpers.error_of(peft.AdamssConfig, { use_asa = true, asa_schedule_exponent = 0.0 })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("AdamssConfig.asa_schedule_exponent: must be a positive number when use_asa is true, got 0.0",
        err.message)
      local cfg = peft.AdamssConfig { use_asa = true, asa_schedule_exponent = 1 }
      assert.are.equal(1, cfg.asa_schedule_exponent)
    end)
  end)

  it("rejects a wrongly typed field", function()
    local err = helpers.error_of(peft.AdamssConfig, { num_subspaces = 2.5 })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("AdamssConfig.num_subspaces: expected an integer, got 2.5 (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)", err.message)
  end)
end)
