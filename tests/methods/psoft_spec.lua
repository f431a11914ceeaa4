-- PsoftConfig: fields, the layer rules, r, the SVD and Cayley-Neumann settings.
local peft = require "peft"
local helpers = require "helpers"

local function fails(args, message)
  local err = helpers.error_of(peft.PsoftConfig, args)
  assert.are.equal("ValueError", err.kind)
  assert.are.equal(message, err.message)
end

local function warnings_of(args)
  local warnings, ok, cfg = peft.capture_warnings(function() return peft.PsoftConfig(args) end)
  assert.is_true(ok, tostring(cfg))
  return warnings, cfg
end

describe("PsoftConfig", function()
  it("has PEFT's defaults and warns about nothing", function()
    local warnings, cfg = warnings_of {}
    assert.are.same({}, warnings)
    assert.are.equal("PSOFT", cfg.peft_type)
    assert.are.equal(32, cfg.r)
    assert.are.equal("psoft_init", cfg.ab_svd_init)
    assert.are.equal("full", cfg.psoft_svd)
    assert.is_nil(cfg.cayley_neumann_eps)
  end)

  it("keeps target_modules and exclude_modules lists as sorted sets", function()
    local cfg = peft.PsoftConfig { target_modules = { "v", "q", "v" }, exclude_modules = { "b", "a" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "a", "b" }, cfg.exclude_modules)
  end)

  describe("layer selection", function()
    it("refuses layers_to_transform with a regex target_modules", function()
      fails({ target_modules = ".*q$", layers_to_transform = { 1, 2 } },
        'PsoftConfig.layers_to_transform: must be null when target_modules is a regular expression '
          .. '(".*q$"), got [1, 2]')
    end)

    it("refuses layers_pattern with a regex target_modules", function()
      fails({ target_modules = ".*q$", layers_pattern = "layers", layers_to_transform = 0 },
        'PsoftConfig.layers_to_transform: must be null when target_modules is a regular expression (".*q$"), got 0')
      fails({ target_modules = ".*q$", layers_pattern = "layers" },
        'PsoftConfig.layers_pattern: must be null when target_modules is a regular expression (".*q$"), got "layers"')
    end)

    it("needs layers_to_transform with layers_pattern", function()
      fails({ target_modules = { "q" }, layers_pattern = { "layers" } },
        'PsoftConfig.layers_pattern: needs layers_to_transform to be set as well, got ["layers"]')
    end)

    it("accepts layers_pattern with layers_to_transform (even 0) and a list of targets", function()
      local cfg = peft.PsoftConfig { target_modules = { "q" }, layers_pattern = "h", layers_to_transform = 0 }
      assert.are.equal(0, cfg.layers_to_transform)
      assert.are.equal(".*q$", peft.PsoftConfig { target_modules = ".*q$" }.target_modules)
    end)

    it("lets an empty layers_pattern go without layers_to_transform", function()
      assert.are.equal("", peft.PsoftConfig { layers_pattern = "" }.layers_pattern)
    end)
  end)

  it("needs a positive r", function()
    fails({ r = 0 }, "PsoftConfig.r: must be a positive integer, got 0")
    assert.are.equal(1, peft.PsoftConfig { r = 1 }.r)
  end)

  it("accepts only the known ab_svd_init and psoft_svd values", function()
    fails({ ab_svd_init = "lora_init" },
      [[PsoftConfig.ab_svd_init: expected one of 'psoft_init', 'pissa_init', got "lora_init"]])
    fails({ psoft_svd = "randomized" }, [[PsoftConfig.psoft_svd: expected one of 'full', 'lowrank', got "randomized"]])
    local cfg = peft.PsoftConfig { ab_svd_init = "pissa_init", psoft_svd = "lowrank" }
    assert.are.equal("pissa_init", cfg.ab_svd_init)
  end)

  describe("psoft_svd_lowrank_niter", function()
    it("warns when set without the low-rank SVD", function()
      local warnings = warnings_of { psoft_svd_lowrank_niter = 4 }
      assert.are.same({ "PsoftConfig: psoft_svd_lowrank_niter=4 is ignored: it only applies when psoft_svd is"
        .. ' \'lowrank\', got "full"' }, warnings)
    end)

    it("does not warn with the low-rank SVD", function()
      local warnings, cfg = warnings_of { psoft_svd = "lowrank", psoft_svd_lowrank_niter = 4 }
      assert.are.same({}, warnings)
      assert.are.equal(4, cfg.psoft_svd_lowrank_niter)
    end)
  end)

  describe("Cayley-Neumann settings", function()
    it("need a positive num_cayley_neumann_terms when used", function()
      fails({ use_cayley_neumann = true, num_cayley_neumann_terms = 0 },
        "PsoftConfig.num_cayley_neumann_terms: must be a positive integer when use_cayley_neumann is true, got 0")
    end)

    it("need cayley_neumann_eps strictly between 0 and 1 when used", function()
      fails({ use_cayley_neumann = true, cayley_neumann_eps = 1.0 },
        "PsoftConfig.cayley_neumann_eps: must lie strictly between 0 and 1 when set, got 1.0")
      fails({ use_cayley_neumann = true, cayley_neumann_eps = 0 },
        "PsoftConfig.cayley_neumann_eps: must lie strictly between 0 and 1 when set, got 0")
    end)

    it("accept valid values when used, without warnings", function()
      local warnings, cfg = warnings_of { use_cayley_neumann = true, num_cayley_neumann_terms = 8,
        cayley_neumann_eps = 0.5 }
      assert.are.same({}, warnings)
      assert.are.equal(0.5, cfg.cayley_neumann_eps)
    end)

    it("warn when set but not used", function()
      local warnings, cfg = warnings_of { num_cayley_neumann_terms = 0, cayley_neumann_eps = 2.0 }
      assert.are.same({
        "PsoftConfig: num_cayley_neumann_terms=0 is ignored because use_cayley_neumann is false",
        "PsoftConfig: cayley_neumann_eps=2.0 is ignored because use_cayley_neumann is false",
      }, warnings)
      assert.are.equal(0, cfg.num_cayley_neumann_terms)
    end)
  end)
end)
