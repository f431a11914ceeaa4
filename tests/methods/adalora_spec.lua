-- AdaLoraConfig: its own fields, the rank_pattern default, and the rules of
-- PEFT's __post_init__ on top of LoraConfig's.
local peft = require "peft"
local helpers = require "helpers"

local function build(args)
  local warnings, ok, cfg = peft.capture_warnings(function() return peft.AdaLoraConfig(args) end)
  if not ok then error(cfg, 0) end
  return cfg, warnings
end

local function fails(args)
  return helpers.error_of(peft.AdaLoraConfig, args)
end

describe("AdaLoraConfig", function()
  describe("fields", function()
    it("is a LoraConfig with its own fields appended in PEFT's order", function()
      assert.is_true(peft.AdaLoraConfig:is_subclass_of(peft.LoraConfig))
      local own = {}
      for _, f in ipairs(peft.AdaLoraConfig.fields) do
        if f.declared_in == "AdaLoraConfig" then own[#own + 1] = f.name end
      end
      assert.are.same({ "rank_pattern", "target_r", "init_r", "tinit", "tfinal", "deltaT", "beta1", "beta2",
                        "orth_reg_weight", "total_step" }, own)
      -- rank_pattern keeps LoraConfig's position
      assert.are.equal("rank_pattern", peft.AdaLoraConfig.fields[20].name)
      assert.are.equal("total_step", peft.AdaLoraConfig.fields[#peft.AdaLoraConfig.fields].name)
    end)

    it("has PEFT's defaults; rank_pattern is null, unlike LoraConfig's {}", function()
      local cfg = build { total_step = 100 }
      assert.are.equal("ADALORA", cfg.peft_type)
      assert.is_nil(cfg.rank_pattern)
      assert.are.same({}, peft.LoraConfig().rank_pattern)
      assert.are.same({}, cfg.alpha_pattern)
      assert.are.equal(8, cfg.target_r)
      assert.are.equal(12, cfg.init_r)
      assert.are.equal(0, cfg.tinit)
      assert.are.equal(0, cfg.tfinal)
      assert.are.equal(1, cfg.deltaT)
      assert.are.equal(0.85, cfg.beta1)
      assert.are.equal(0.85, cfg.beta2)
      assert.are.equal(0.5, cfg.orth_reg_weight)
      assert.truthy(cfg:to_json():find('"rank_pattern": null', 1, true))
    end)

    it("keeps a rank_pattern recorded after training", function()
      local cfg = build { total_step = 100, rank_pattern = { ["model.layers.0.q_proj"] = { true, false, true } } }
      assert.are.same({ ["model.layers.0.q_proj"] = { true, false, true } }, cfg.rank_pattern)
    end)

    it("takes step counts written as whole floats (PEFT only counts steps with them), kept as written", function()
      local cfg = peft.AdaLoraConfig { total_step = 100.0, tinit = 10.0, deltaT = 2 }
      assert.are.equal(100.0, cfg.total_step)
      assert.are.equal("float", math.type(cfg.total_step))
      assert.truthy(cfg:to_json():find('"total_step": 100.0', 1, true))
    end)

    it("refuses a float init_r: PEFT reads it, its model code cannot use it as a size", function()
      local err = fails { total_step = 100, init_r = 12.0 }
      assert.are.equal("AdaLoraConfig.init_r: expected an integer, got 12.0 (PEFT reads the file, but its model code "
        .. "needs an integer here: a size, a count or a seed)", err.message)
    end)

    it("rejects a wrongly typed field", function()
      local err = fails { total_step = 100, deltaT = 1.5 }
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("AdaLoraConfig.deltaT: expected an integer, got 1.5", err.message)
    end)
  end)

  describe("total_step", function()
    it("is required", function()
      local err = fails {}
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("AdaLoraConfig.total_step: must be an integer > 0 (the number of training steps AdaLoRA "
        .. "schedules), got null", err.message)
    end)

    it("must be > 0", function()
      local err = fails { total_step = 0 }
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("AdaLoraConfig.total_step: must be an integer > 0 (the number of training steps AdaLoRA "
        .. "schedules), got 0", err.message)
    end)

    it("accepts a positive integer", function()
      assert.are.equal(1, build({ total_step = 1 }).total_step)
    end)
  end)

  describe("the schedule", function()
    it("refuses tinit and tfinal that leave no budgeting phase", function()
      local err = fails { total_step = 100, tinit = 60, tfinal = 40 }
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("AdaLoraConfig.tinit: leaves no budgeting phase: tinit must be < total_step - tfinal "
        .. "(100 - 40 = 60), got 60; lower tinit or tfinal, or raise total_step", err.message)
    end)

    it("accepts a schedule with at least one budgeting step", function()
      local cfg = build { total_step = 100, tinit = 59, tfinal = 40 }
      assert.are.equal(59, cfg.tinit)
    end)
  end)

  describe("orth_reg_weight", function()
    it("must be >= 0", function()
      local err = fails { total_step = 100, orth_reg_weight = -0.1 }
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("AdaLoraConfig.orth_reg_weight: must be >= 0, got -0.1", err.message)
    end)

    it("accepts 0", function()
      assert.are.equal(0, build({ total_step = 100, orth_reg_weight = 0 }).orth_reg_weight)
    end)
  end)

  describe("refusals", function()
    it("refuses DoRA", function()
      local err = fails { total_step = 100, use_dora = true }
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("AdaLoraConfig.use_dora: must be false (AdaLoRA does not support DoRA), got true",
        err.message)
    end)

    it("refuses LoftQ", function()
      local err = fails { total_step = 100, init_lora_weights = "loftq", loftq_config = { loftq_bits = 4 } }
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('AdaLoraConfig.loftq_config: must be empty (AdaLoRA does not support LoftQ), '
        .. 'got {"loftq_bits": 4}', err.message)
    end)

    it("only warns about a loftq_config LoRA's rules cleared", function()
      local cfg, warnings = build { total_step = 100, loftq_config = { loftq_bits = 4 } }
      assert.are.same({ "AdaLoraConfig: loftq_config is ignored and cleared: init_lora_weights is true, "
        .. "not 'loftq'" }, warnings)
      assert.are.same({}, cfg.loftq_config)
    end)
  end)

  describe("r", function()
    it("warns that r is ignored when it is not 8", function()
      local cfg, warnings = build { total_step = 100, r = 16 }
      assert.are.same({ "AdaLoraConfig: r is not used by AdaLoRA and is ignored (got 16); "
        .. "set init_r for the initial rank" }, warnings)
      assert.are.equal(16, cfg.r)
    end)

    it("does not warn for the default r", function()
      local _, warnings = build { total_step = 100, init_r = 6 }
      assert.are.same({}, warnings)
    end)
  end)

  describe("LoraConfig's rules", function()
    it("apply first, naming AdaLoraConfig", function()
      local err = fails { target_modules = "q.*", layers_to_transform = 0 }
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('AdaLoraConfig.layers_to_transform: must be null when target_modules is a regular '
        .. 'expression ("q.*"), got 0', err.message)
      err = fails { total_step = 100, layers_pattern = "h" }
      assert.are.equal('AdaLoraConfig.layers_pattern: needs layers_to_transform to be set as well, got "h"',
        err.message)
    end)

    it("keep target_modules as a set", function()
      local cfg = build { total_step = 100, target_modules = { "v", "q", "v" } }
      assert.are.same({ "q", "v" }, cfg.target_modules)
    end)

    it("still warn and fill defaults", function()
      local cfg, warnings = build { total_step = 100, init_lora_weights = "eva" }
      assert.are.same({ "AdaLoraConfig: init_lora_weights is 'eva' but eva_config is not given; "
        .. "using the default EvaConfig" }, warnings)
      assert.are.equal(2.0, cfg.eva_config.rho)
    end)
  end)

  it("round-trips through to_dict", function()
    local cfg = build { total_step = 500, tinit = 10, tfinal = 20, target_modules = { "q", "v" } }
    assert.are.equal(cfg:to_json(), build(cfg:to_dict()):to_json())
  end)
end)
