-- Inputs the fuzzers found problems with, and the hostile inputs of issue 13
-- (tests/fuzz/regressions/<target>/), stay fixed: each is run through the
-- same checks as its fuzz target and must give the outcome recorded for it in
-- tests/fuzz/expected.lua. A missing directory, an input without an
-- expectation or an expectation without an input is a failure.
local peft = require "peft"
local helpers = require "helpers"

local expected = dofile("tests/fuzz/expected.lua")

local function inputs(target)
  local dir = "tests/fuzz/regressions/" .. target
  local names, err = peft.core.listdir(dir)
  assert(names, "no regression inputs for " .. target .. ": " .. tostring(err))
  local out = {}
  for _, n in ipairs(names) do out[#out + 1] = { n, assert(helpers.read(dir .. "/" .. n)) } end
  return out
end

local function same_names(target)
  local have, want = {}, {}
  for _, case in ipairs(inputs(target)) do have[#have + 1] = case[1] end
  for n in pairs(expected[target]) do want[#want + 1] = n end
  table.sort(have)
  table.sort(want)
  assert.are.same(want, have)
end

describe("fuzz regressions", function()
  it("every input has an expected outcome, and every expectation an input", function()
    same_names("fuzz_config")
    same_names("fuzz_safetensors")
  end)

  for _, case in ipairs(inputs("fuzz_config")) do
    local want = expected.fuzz_config[case[1]] or {}
    it("config: " .. case[1], function()
      local _, ok, cfg = peft.capture_warnings(peft.from_json, case[2])
      if want.error then
        assert.is_false(ok, "expected an error, got a config")
        assert.truthy(peft.errors.is_error(cfg), tostring(cfg))
        assert.are.same(want.error, { cfg.kind, cfg.message })
        return
      end
      assert.is_true(want.loads, "no expectation for " .. case[1])
      assert.is_true(ok, tostring(cfg))
      local json = cfg:to_json()
      if want.contains then assert.truthy(json:find(want.contains, 1, true), json) end
      local _, ok2, again = peft.capture_warnings(peft.from_json, json)
      assert.is_true(ok2, tostring(again))
      assert.are.equal(json, again:to_json())
    end)
  end

  for _, case in ipairs(inputs("fuzz_safetensors")) do
    local want = expected.fuzz_safetensors[case[1]] or {}
    it("safetensors: " .. case[1], function()
      local h, err = peft.safetensors.parse_header(case[2])
      if want.error then
        assert.is_nil(h)
        assert.are.equal(want.error, err)
        return
      end
      assert.truthy(want.tensors, "no expectation for " .. case[1])
      assert.truthy(h, err)
      assert.are.equal(want.tensors, #h.tensors)
      -- what the fuzz target checks: the tensors cover the data region exactly
      local covered = 0
      for _, t in ipairs(h.tensors) do covered = covered + t.nbytes end
      assert.are.equal(h.data_size, covered)
    end)
  end
end)
