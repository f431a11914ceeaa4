-- peft.config.common: what the config modules share: the private key of an
-- object's state, deep copies, the bit string of given fields, name
-- suggestions, sorted keys, value comparison.
local core = require "peft.core"

local M = {}

local array_mt = core.json_array_mt
local null = core.null

M.STATE = setmetatable({}, { __name = "peft.config.state" }) -- private key of an object's state

--- Whether v is a config object.
function M.is_config(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__peft_instance == true
end

local function deepcopy(v)
  if type(v) ~= "table" then return v end
  local mt = getmetatable(v)
  if mt and mt.__peft_instance then return v:copy() end
  local out = {}
  for k, x in pairs(v) do out[k] = deepcopy(x) end
  if mt == array_mt then setmetatable(out, array_mt) end
  return out
end
M.deepcopy = deepcopy

-- Whether field i is set in a bit string made by core.config_filler.
function M.given_bit(given, i)
  local b = string.byte(given, (i - 1) // 8 + 1)
  return b ~= nil and (b >> ((i - 1) % 8)) & 1 == 1
end

function M.fmt(s, ...)
  if select("#", ...) == 0 then return s end
  return string.format(s, ...)
end

local function suggest(name, candidates)
  local close = core.closest(name, candidates, 3)
  if #close == 0 then return "" end
  for i, n in ipairs(close) do close[i] = "'" .. n .. "'" end
  return " (did you mean " .. table.concat(close, ", ") .. "?)"
end
M.suggest = suggest

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end
M.sorted_keys = sorted_keys

local function same(a, b)
  if a == b then return true end
  if (a == nil or a == null) and (b == nil or b == null) then return true end
  if type(a) ~= "table" or type(b) ~= "table" then
    return false
  end
  local ok1, ea = pcall(core.json_encode, a)
  local ok2, eb = pcall(core.json_encode, b)
  return ok1 and ok2 and ea == eb
end
M.same = same


return M
