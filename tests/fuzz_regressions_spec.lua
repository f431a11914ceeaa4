-- Inputs the fuzzers found problems with (tests/fuzz/regressions/<target>/)
-- stay fixed: each is run through the same checks as its fuzz target.
local peft = require "peft"
local helpers = require "helpers"

local function inputs(target)
  local dir = "tests/fuzz/regressions/" .. target
  local names = peft.core.listdir(dir) or {}
  local out = {}
  for _, n in ipairs(names) do out[#out + 1] = { n, helpers.read(dir .. "/" .. n) } end
  return out
end

describe("fuzz regressions", function()
  for _, case in ipairs(inputs("fuzz_config")) do
    it("config: " .. case[1] .. " loads or fails cleanly, and round-trips", function()
      local warnings, ok, cfg = peft.capture_warnings(peft.from_json, case[2])
      if not ok then
        assert.truthy(peft.errors.is_error(cfg), tostring(cfg))
        return
      end
      local json = cfg:to_json()
      local _, ok2, again = peft.capture_warnings(peft.from_json, json)
      assert.is_true(ok2, tostring(again))
      assert.are.equal(json, again:to_json())
    end)
  end

  for _, case in ipairs(inputs("fuzz_safetensors")) do
    it("safetensors: " .. case[1] .. " parses or fails cleanly", function()
      local h, err = peft.safetensors.parse_header(case[2])
      assert.truthy(h or type(err) == "string")
    end)
  end
end)
