-- peft.schema: a JSON Schema (draft 2020-12) of a config class, built from
-- the same field declarations the runtime validates with, so that editors
-- and non-Lua tools can check adapter_config.json files.
--
-- Types map as: int -> integer, float -> number, str -> string, bool ->
-- boolean, list[T] -> array of T, tuple -> prefixItems, dict -> object,
-- Literal -> enum (a 'prefix_[...]' placeholder becomes a pattern), unions ->
-- anyOf, enums (TaskType...) -> enum of members, nested configs -> $ref into
-- $defs. peft_type is the class's own member (const). Unknown keys are
-- allowed, as the loader keeps them.
local core = require "peft.core"
local config = require "peft.config"
local types = require "peft.types"

local M = {}

local null = core.null
local array_mt = core.json_array_mt

local function arr(t) return setmetatable(t or {}, array_mt) end

local node_schema

local function literal_schema(values)
  local enum, patterns = arr(), arr()
  for _, v in ipairs(values) do
    local prefix = type(v) == "string" and v:match("^(.-)%[[^%]]*%]$")
    if prefix and prefix ~= "" then
      patterns[#patterns + 1] = { type = "string", pattern = "^" .. prefix:gsub("%p", "\\%0") .. "[0-9]+$" }
    else
      enum[#enum + 1] = v
    end
  end
  if #patterns == 0 then return { enum = enum } end
  local any = arr()
  if #enum > 0 then any[1] = { enum = enum } end
  for _, p in ipairs(patterns) do any[#any + 1] = p end
  return { anyOf = any }
end

function node_schema(n, defs)
  local k = n.k
  if k == "int" then return { type = "integer" } end
  if k == "float" then return { type = "number" } end
  if k == "str" then return { type = "string" } end
  if k == "bool" then return { type = "boolean" } end
  if k == "none" then return { type = "null" } end
  if k == "any" then return {} end
  if k == "list" then
    local s = { type = "array", items = node_schema(n.of, defs) }
    if n.set then s.uniqueItems = true end
    return s
  end
  if k == "tuple" then
    local items = arr()
    for i, it in ipairs(n.items) do items[i] = node_schema(it, defs) end
    return { type = "array", prefixItems = items, minItems = #items, maxItems = #items }
  end
  if k == "dict" then
    local s = { type = "object" }
    if n.val.k ~= "any" then s.additionalProperties = node_schema(n.val, defs) end
    return s
  end
  if k == "literal" then return literal_schema(n.values) end
  if k == "named" then
    local members = config.enum_members(n.name)
    if members then
      local e = arr()
      for i, m in ipairs(members) do e[i] = m end
      return { enum = e }
    end
    local cls = config.classes[n.name]
    if cls and cls.kind == "helper" then
      if not defs[n.name] then
        defs[n.name] = true -- placeholder against recursion
        defs[n.name] = M.object_schema(cls, defs)
      end
      return { ["$ref"] = "#/$defs/" .. n.name }
    end
    return {}
  end
  if k == "union" then
    local any = arr()
    for _, a in ipairs(n.alts) do any[#any + 1] = node_schema(a, defs) end
    return { anyOf = any }
  end
  return {}
end

local function default_value(v)
  if v == nil then return null end
  return config.deepcopy(v)
end

--- The schema of the fields of a class, as an object schema.
function M.object_schema(cls, defs)
  local props = {}
  for _, f in ipairs(cls.fields) do
    if f.to_dict ~= false then
      local s
      if f.name == "peft_type" and cls.peft_type then
        s = { const = cls.peft_type }
      else
        s = node_schema(f.node, defs)
        if f.default == nil and not types.allows_none(f.node) then
          s = { anyOf = arr { s, { type = "null" } } }
        end
      end
      s.description = f.help
      s.default = default_value(f.name == "peft_type" and cls.peft_type or f.default)
      props[f.name] = s
    end
  end
  local out = { type = "object", title = cls.name, properties = props }
  if cls.doc and cls.doc ~= "" then out.description = cls.doc end
  return out
end

--- schema(cls) -> a table that json_encode turns into the JSON Schema.
function M.schema(cls)
  local defs = {}
  local s = M.object_schema(cls, defs)
  local out = {
    ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
    ["$id"] = "https://peft.invalid/schema/" .. cls.name .. ".json",
    title = cls.name,
    description = s.description,
    type = "object",
    properties = s.properties,
    additionalProperties = true,
  }
  if cls.peft_type then out.required = arr { "peft_type" } end
  if next(defs) then out["$defs"] = defs end
  return out
end

return M
