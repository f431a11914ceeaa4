-- scripts/check-corpus.lua DIR [--verbose]
-- Loads every *.json file of DIR as an adapter config and prints a tally:
-- loaded, loaded with warnings (which), failed (why). For every file that
-- loads, checks that load -> save gives JSON equal in value to the file:
-- every key of the file comes back with the same value (and the same number
-- kinds), and every key we add is one PEFT would add, with its default.
-- Exit status: 0 when every loaded file round-trips, 1 otherwise.
-- Run with the peft executable: build/peft scripts/check-corpus.lua DIR
local peft = require "peft"
local core = peft.core

local dir = arg[1]
local verbose = arg[2] == "--verbose"
if not dir then
  io.stderr:write("usage: peft scripts/check-corpus.lua DIR [--verbose]\n")
  os.exit(2)
end

local null = peft.null

local function canon(v, sorted_lists)
  -- JSON text with every list sorted when asked (set-valued fields)
  if sorted_lists and type(v) == "table" and peft.types.is_array(v) then
    local copy, seen = setmetatable({}, core.json_array_mt), {}
    for _, x in ipairs(v) do
      local key = core.json_encode(x)
      if not seen[key] then
        seen[key] = true
        copy[#copy + 1] = x
      end
    end
    table.sort(copy, function(a, b) return core.json_encode(a) < core.json_encode(b) end)
    v = copy
  end
  local ok, s = pcall(core.json_encode, v)
  return ok and s or tostring(v)
end

local function roundtrip_problems(original, cfg)
  local problems = {}
  local cls = cfg:get_class()
  local saved = core.json_decode(cfg:to_json())
  for k, v in pairs(original) do
    local f = cls.field_map[k]
    if k == "runtime_config" then
      -- ignored on load, as PEFT does
    elseif saved[k] == nil then
      problems[#problems + 1] = "key '" .. k .. "' dropped"
    elseif k == "peft_version" and v == null then
      -- PEFT fills an empty peft_version
    else
      local set = f and f.set
      if canon(v, set) ~= canon(saved[k], set) then
        problems[#problems + 1] = string.format("'%s' changed: %s -> %s", k, canon(v), canon(saved[k]))
      end
    end
  end
  for k, v in pairs(saved) do
    if original[k] == nil then
      local f = cls.field_map[k]
      if not f then
        problems[#problems + 1] = "key '" .. k .. "' added but not a field"
      elseif k ~= "peft_version" and canon(v) ~= canon(f.default == nil and null or f.default) then
        -- a derived value (PEFT fills some fields from others) is reported
        problems[#problems + 1] = string.format("'%s' added with %s, not its default", k, canon(v))
      end
    end
  end
  table.sort(problems)
  return problems
end

local names = core.listdir(dir)
if not names then
  io.stderr:write("cannot list ", dir, "\n")
  os.exit(2)
end

local tally = { loaded = 0, warned = 0, failed = 0, roundtrip = 0 }
local failures, warnings_by_kind, failure_kinds = {}, {}, {}
local files = 0
for _, name in ipairs(names) do
  if name:match("%.json$") then
    files = files + 1
    local path = dir:gsub("/+$", "") .. "/" .. name
    local warnings, ok, cfg = peft.capture_warnings(peft.PeftConfig.from_pretrained, path)
    if not ok then
      tally.failed = tally.failed + 1
      local msg = peft.errors.message(cfg)
      failures[#failures + 1] = name .. ": " .. msg:gsub(path:gsub("%p", "%%%0") .. ": ", "", 1)
      local kind = (type(cfg) == "table" and cfg.kind or "error") .. ": "
        .. msg:gsub("^.-%.json: ", ""):gsub("'[^']*'", "'...'"):gsub('"[^"]*"', '"..."'):sub(1, 90)
      failure_kinds[kind] = (failure_kinds[kind] or 0) + 1
    else
      if #warnings > 0 then
        tally.warned = tally.warned + 1
        for _, w in ipairs(warnings) do
          local key = w:gsub("^.-adapter_configs/%d+%.json: ", ""):gsub("^%d+%.json: ", "")
          key = key:gsub("%d+ keys? unknown to (%w+):.*", "keys unknown to %1")
          warnings_by_kind[key] = (warnings_by_kind[key] or 0) + 1
          if verbose then print(name .. ": warning: " .. w) end
        end
      else
        tally.loaded = tally.loaded + 1
      end
      local text = assert(core.read_file(path))
      local original = core.json_decode(text)
      local problems = roundtrip_problems(original, cfg)
      if #problems > 0 then
        tally.roundtrip = tally.roundtrip + 1
        print(name .. ": round trip differs: " .. table.concat(problems, "; "))
      end
    end
  end
end

print(("\n%d files: %d loaded cleanly, %d loaded with warnings, %d failed; %d round-trip differences")
  :format(files, tally.loaded, tally.warned, tally.failed, tally.roundtrip))
print("\nwarnings (files):")
local ks = peft.config.sorted_keys(warnings_by_kind)
for _, k in ipairs(ks) do print(("  %3d  %s"):format(warnings_by_kind[k], k)) end
print("\nfailures by kind:")
ks = peft.config.sorted_keys(failure_kinds)
for _, k in ipairs(ks) do print(("  %3d  %s"):format(failure_kinds[k], k)) end
print("\nfailures:")
for _, f in ipairs(failures) do print("  " .. f) end
os.exit(tally.roundtrip == 0 and 0 or 1)
