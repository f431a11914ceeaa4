-- OFTConfig: fields, the layer rule, r / oft_block_size, and the checks PEFT
-- runs when an OFT adapter's config is loaded (check_kwargs).
local peft = require "peft"
local helpers = require "helpers"

local function fails(args, message)
  local err = helpers.error_of(peft.OFTConfig, args)
  assert.are.equal("ValueError", err.kind)
  assert.are.equal(message, err.message)
end

local CN_WARNING = "OFTConfig: the adapter uses the Cayley-Neumann parametrisation (use_cayley_neumann) and was"
  .. " saved by %s; PEFT 0.18.0 changed that parametrisation, so retrain the adapter with a newer PEFT, or use"
  .. " PEFT 0.17.0 to load it"

local OLD_OFT_ERROR = "OFTConfig.oft_block_size: missing from the file, so the adapter was saved by PEFT older than"
  .. " 0.14.0, whose OFT weights do not work with the current OFT; retrain the adapter with a newer PEFT,"
  .. " or load it with PEFT 0.13.0"

describe("OFTConfig", function()
  after_each(helpers.cleanup)

  it("keeps target_modules and exclude_modules lists as sorted sets", function()
    local cfg = peft.OFTConfig { target_modules = { "v", "q", "v" }, exclude_modules = { "b", "a" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "a", "b" }, cfg.exclude_modules)
  end)

  it("accepts only the known bias values", function()
    fails({ bias = "lora_only" }, [[OFTConfig.bias: expected one of 'none', 'all', 'oft_only', got "lora_only"]])
    assert.are.equal("oft_only", peft.OFTConfig { bias = "oft_only" }.bias)
  end)

  it("needs layers_to_transform with layers_pattern", function()
    fails({ layers_pattern = "layers" }, 'OFTConfig.layers_pattern: needs layers_to_transform to be set as well,'
      .. ' got "layers"')
    assert.are.equal(0, peft.OFTConfig { layers_pattern = "layers", layers_to_transform = 0 }.layers_to_transform)
  end)

  it("refuses r and oft_block_size both 0", function()
    fails({ oft_block_size = 0 }, "OFTConfig.oft_block_size: r and oft_block_size cannot both be 0: set one of them"
      .. " (the other is inferred from the layer size), got r=0 and oft_block_size=0")
  end)

  it("refuses r and oft_block_size both set", function()
    fails({ r = 8 }, "OFTConfig.r: cannot be set together with oft_block_size, since r x oft_block_size is the"
      .. " layer's input size: give one and set the other to 0, got r=8 and oft_block_size=32")
  end)

  it("accepts either r or oft_block_size alone", function()
    assert.are.equal(8, peft.OFTConfig { r = 8, oft_block_size = 0 }.r)
    assert.are.equal(16, peft.OFTConfig { oft_block_size = 16 }.oft_block_size)
  end)

  describe("loading (PEFT's check_kwargs)", function()
    local function load(text)
      local dir = helpers.tmpdir()
      helpers.write(dir .. "/adapter_config.json", text)
      local warnings, ok, cfg = peft.capture_warnings(peft.OFTConfig.from_pretrained, dir)
      return warnings, ok, cfg, dir .. "/adapter_config.json"
    end

    it("refuses a file without oft_block_size (OFT before PEFT 0.14.0)", function()
      local _, ok, err, file = load('{"peft_type": "OFT", "r": 8, "module_dropout": 0.0}')
      assert.is_false(ok)
      assert.are.equal("ValueError", err.kind)
      assert.are.equal(file .. ": " .. OLD_OFT_ERROR, err.message)
      assert.are.equal("oft_block_size", err.field)
      assert.are.equal(file, err.path)
    end)

    it("runs the same check from text, with ':' too", function()
      local err = helpers.error_of(peft.OFTConfig.from_json, '{"peft_type": "OFT", "r": 8}')
      assert.are.equal("ValueError", err.kind)
      assert.are.equal(OLD_OFT_ERROR, err.message)
      err = helpers.error_of(function() return peft.OFTConfig:from_json('{"peft_type": "OFT", "r": 8}') end)
      assert.are.equal(OLD_OFT_ERROR, err.message)
    end)

    it("runs for every load of an OFT file, PeftConfig.from_json included (as loading a model does)", function()
      local err = helpers.error_of(peft.from_json, '{"peft_type": "OFT", "r": 8}')
      assert.are.equal("ValueError", err.kind)
      assert.are.equal(OLD_OFT_ERROR, err.message)
    end)

    it("loads a current file without warnings", function()
      local warnings, ok, cfg = load('{"peft_type": "OFT", "oft_block_size": 16, "r": 0, "use_cayley_neumann": true,'
        .. ' "peft_version": "0.18.0"}')
      assert.is_true(ok, tostring(cfg))
      assert.are.same({}, warnings)
      assert.are.equal(16, cfg.oft_block_size)
      assert.are.same({}, cfg:warnings())
    end)

    it("warns about a Cayley-Neumann adapter saved before PEFT 0.18.0", function()
      local warnings, ok, cfg, file = load('{"peft_type": "OFT", "oft_block_size": 32, "use_cayley_neumann": true,'
        .. ' "peft_version": "0.17.1@abc123"}')
      assert.is_true(ok, tostring(cfg))
      local msg = CN_WARNING:format("PEFT 0.17.1")
      assert.are.same({ file .. ": " .. msg }, warnings)
      assert.are.same({ msg }, cfg:warnings())
    end)

    it("warns when the file has no peft_version (written before 0.18.0)", function()
      local warnings, ok = load('{"peft_type": "OFT", "oft_block_size": 32, "use_cayley_neumann": true}')
      assert.is_true(ok)
      assert.are.equal(1, #warnings)
      assert.truthy(warnings[1]:find(CN_WARNING:format("a PEFT older than 0.18.0 (the file has no peft_version)"),
        1, true))
    end)

    it("does not warn when use_cayley_neumann is off or absent from the file", function()
      local warnings, ok = load('{"peft_type": "OFT", "oft_block_size": 32, "use_cayley_neumann": false,'
        .. ' "peft_version": "0.15.0"}')
      assert.is_true(ok)
      assert.are.same({}, warnings)
      warnings, ok = load('{"peft_type": "OFT", "oft_block_size": 32, "peft_version": "0.15.0"}')
      assert.is_true(ok)
      assert.are.same({}, warnings)
    end)

    it("compares versions the way packaging does", function()
      local older = { "0.17.1", "0.9", "0.18.0.dev0", "0.18.0rc1", "0.18.0a1.post2", "v0.14.0" }
      local newer = { "0.18.0", "0.18", "0.18.0.post1", "0.18.0.post1.dev0", "0.18.1.dev0", "1!0.1",
                      "0.20.1.dev0@5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40", "0.18.0+local.1" }
      for _, v in ipairs(older) do
        local w = peft.OFTConfig.check_kwargs({ oft_block_size = 32, use_cayley_neumann = true, peft_version = v })
        assert.are.equal(1, #w, v)
      end
      for _, v in ipairs(newer) do
        local w = peft.OFTConfig.check_kwargs({ oft_block_size = 32, use_cayley_neumann = true, peft_version = v })
        assert.are.same({}, w, v)
      end
    end)

    it("warns for a peft_version that is not a version number (found by fuzzing: PEFT raises, although it"
       .. " loads the same file without use_cayley_neumann and saves it with it)", function()
      local warnings, ok, cfg = peft.capture_warnings(peft.OFTConfig.from_json,
        '{"peft_type": "OFT", "oft_block_size": 32, "use_cayley_neumann": true, "peft_version": "latest"}')
      assert.is_true(ok, tostring(cfg))
      assert.are.equal(1, #warnings)
      assert.truthy(warnings[1]:find('saved by an unknown PEFT (peft_version "latest" is not a valid version number)',
        1, true), warnings[1])
    end)

    it("does not run the OFT checks on another method's file", function()
      local err = helpers.error_of(function() return peft.OFTConfig:from_json('{"peft_type": "LORA"}') end)
      assert.are.equal("ValueError", err.kind)
      assert.truthy(err.message:find("not a OFTConfig", 1, true), err.message)
    end)

    it("reports a missing file as the loader does", function()
      local err = helpers.error_of(peft.OFTConfig.from_pretrained, "/nonexistent/dir")
      assert.are.equal("FileNotFoundError", err.kind)
    end)
  end)
end)
