-- peft.enum: read-only enum views over the C core.
--
-- An enum view is an empty proxy table. Members are plain strings:
--   E.LORA          --> "LORA"        (unknown name: error naming the closest)
--   E[1]            --> first member  (so ipairs walks declaration order)
--   #E              --> member count
--   pairs(E)        --> name, name in declaration order
--   E("LORA")       --> "LORA", or nil + message when not a member
--   E.LORA = 1      --> error: read-only
local M = {}

local function suggestion(core, query, names)
  for _, n in ipairs(names) do
    if n ~= query and n:upper() == query:upper() then return " (did you mean '" .. n .. "'?)" end
  end
  local close = core.closest(query, names, 3)
  if #close == 0 then return "" end
  for i, n in ipairs(close) do close[i] = "'" .. n .. "'" end
  return " (did you mean " .. table.concat(close, ", ") .. "?)"
end

--- Creates an enum view.
-- spec: name (e.g. "PeftType"), count(), at(i), index(name), list(), core
function M.new(spec)
  local name, count, at, index, list, core =
    spec.name, spec.count, spec.at, spec.index, spec.list, spec.core

  local function unknown(key)
    local shown = type(key) == "string" and ("'" .. key .. "'") or tostring(key)
    local hint = type(key) == "string" and suggestion(core, key, list()) or ""
    return string.format("unknown %s member %s%s", name, shown, hint)
  end

  local mt = {}
  mt.__name = name
  mt.__index = function(_, key)
    if math.type(key) == "integer" then return at(key) end
    if type(key) == "string" and index(key) then return key end
    error(core.new_error("AttributeError", unknown(key)), 2)
  end
  mt.__newindex = function(_, key)
    error(core.new_error("TypeError", string.format(
      "%s is read-only (cannot set '%s')%s", name, tostring(key),
      name == "PeftType" and "; add members with peft.add_peft_type" or "")), 2)
  end
  mt.__len = function() return count() end
  mt.__pairs = function()
    local i = 0
    return function()
      i = i + 1
      local v = at(i)
      if v then return v, v end
    end, nil, nil
  end
  mt.__call = function(_, value)
    if type(value) == "string" and index(value) then return value end
    return nil, unknown(value)
  end
  mt.__tostring = function() return string.format("%s (%d members)", name, count()) end
  mt.__metatable = false
  return setmetatable({}, mt)
end

M.suggestion = suggestion

return M
