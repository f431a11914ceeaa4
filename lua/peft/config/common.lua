-- peft.config.common: what the config modules share: the private key of an
-- object's state, deep copies, the bit string of given fields, name
-- suggestions, sorted keys, value comparison.
local core = require "peft.core"

local M = {}

local array_mt = core.json_array_mt
local null = core.null

M.STATE = setmetatable({}, { __name = "peft.config.state" }) -- private key of an object's state

-- The warnings and unknown keys of an object that has none (most): one shared empty table
-- each, which nothing may add to (an object gets its own table with its first warning).
local function frozen(what)
  return setmetatable({}, { __newindex = function() error("peft.config: " .. what .. " is shared", 2) end })
end
M.NO_WARNINGS = frozen("the empty list of warnings")
M.NO_EXTRA = frozen("the empty table of unknown keys")

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

--- Whether v is a table of plain values (strings, numbers, booleans, null)
-- and such tables, JSON arrays included, at most 16 deep: what the field pass
-- deep-copies in C (core.config_filler).
function M.is_plain(v, depth)
  depth = depth or 1
  if depth > 16 then return false end
  local mt = getmetatable(v)
  if mt ~= nil and mt ~= array_mt then return false end
  for k, x in pairs(v) do
    local tk, tx = type(k), type(x)
    if tk ~= "string" and tk ~= "number" then return false end
    if tx == "table" then
      if not M.is_plain(x, depth + 1) then return false end
    elseif tx ~= "string" and tx ~= "number" and tx ~= "boolean" and x ~= null then
      return false
    end
  end
  return true
end

-- Whether field i is set in a bit string made by core.config_filler.
function M.given_bit(given, i)
  local b = string.byte(given, (i - 1) // 8 + 1)
  return b ~= nil and (b >> ((i - 1) % 8)) & 1 == 1
end

function M.fmt(s, ...)
  if select("#", ...) == 0 then return s end
  return string.format(s, ...)
end

-- The edit distance (optimal string alignment, case-insensitive) between a and b.
local function distance(a, b)
  a, b = a:lower(), b:lower()
  local la, lb = #a, #b
  local prev2, prev, cur = {}, {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    cur[0] = i
    local ca = a:byte(i)
    for j = 1, lb do
      local cb = b:byte(j)
      local v = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca == cb and 0 or 1))
      if i > 1 and j > 1 and ca == b:byte(j - 1) and a:byte(i - 1) == cb then v = math.min(v, prev2[j - 2] + 1) end
      cur[j] = v
    end
    prev2, prev, cur = prev, cur, prev2
  end
  return prev[lb]
end
M.distance = distance

-- "did you mean" only for a small slip for the name's length: at most one edit per four characters
-- (one for a short name), or a name that starts with it (EWORA is not a typo of DELORA)
local function suggest(name, candidates)
  local close = core.closest(name, candidates, 3)
  local limit = math.max(1, #name // 4)
  local kept = {}
  for _, n in ipairs(close) do
    local prefix = #name >= 2 and n:lower():sub(1, #name) == name:lower()
    if prefix or distance(name, n) <= limit then kept[#kept + 1] = "'" .. n .. "'" end
  end
  if #kept == 0 then return "" end
  return " (did you mean " .. table.concat(kept, ", ") .. "?)"
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


-- Versions, compared as PEP 440 orders releases ("0.9.0" < "0.10.0", "0.20.1.dev0" < "0.20.1"); a local
-- part ("@commit", "+local") is ignored. parse_version(text) -> a list of numbers, or nil.
function M.parse_version(s)
  if type(s) ~= "string" then return nil end
  s = s:gsub("[@+].*$", "")
  local nums, rest = s:match("^v?(%d+[%.%d]*)(.*)$")
  if not nums then return nil end
  local parts = {}
  for n in nums:gmatch("%d+") do parts[#parts + 1] = tonumber(n) end
  while #parts < 3 do parts[#parts + 1] = 0 end
  -- dev < a < b < rc < (the release) < post
  local rank, extra = 4, 0
  local tag, n = rest:match("^[%.%-_]?(%a+)(%d*)")
  if tag then
    tag = tag:lower()
    extra = tonumber(n) or 0
    local ranks = { dev = 0, a = 1, alpha = 1, b = 2, beta = 2, rc = 3, c = 3, post = 5 }
    rank = ranks[tag]
    if not rank then return nil end
  elseif rest ~= "" then
    return nil
  end
  parts[#parts + 1] = rank
  parts[#parts + 1] = extra
  return parts
end

--- version_cmp(a, b) -> -1, 0 or 1, or nil when either is not a version
function M.version_cmp(a, b)
  local x, y = M.parse_version(a), M.parse_version(b)
  if not x or not y then return nil end
  for i = 1, math.max(#x, #y) do
    local p, q = x[i] or 0, y[i] or 0
    if p ~= q then return p < q and -1 or 1 end
  end
  return 0
end

--- newer_than_runtime(version) -> "saved by PEFT V, newer than R which this runtime follows" when a file's
-- peft_version is newer than the PEFT this runtime follows, else nil
function M.newer_than_runtime(v)
  if type(v) ~= "string" then return nil end
  local runtime = core.PEFT_VERSION:gsub("@.*$", "")
  if (M.version_cmp(v, runtime) or 0) <= 0 then return nil end
  -- the runtime is named by its release number, unless the file's is that same release
  local release = runtime:gsub("%.dev%d*$", "")
  local shown = M.version_cmp(v:gsub("[@+].*$", ""), release) == 0 and runtime or release
  return string.format("saved by PEFT %s, newer than %s which this runtime follows", v, shown)
end

return M
