-- peft show: the command (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local config = peft.config
local say, paint, json_out, arr, null = cli.say, cli.paint, cli.json_out, cli.arr, cli.null
local usage_error = cli.usage_error

-- A value as JSON sees it: nil as null, config objects as their dict.
local function plain(v)
  if v == nil then return null end
  if config.is_config(v) then return v:to_dict() end
  return v
end

local function field_json(f)
  return {
    name = f.name, type = f.type, default = plain(f.default),
    help = f.help, declared_in = f.declared_in, choices = f.choices and arr(f.choices) or null,
    set = f.set or false, written = f.to_dict ~= false,
  }
end

local function nested_classes(cls)
  local out_list, seen = {}, {}
  local function walk(c)
    for _, f in ipairs(c.fields) do
      if f.nested and not seen[f.nested] then
        seen[f.nested] = true
        out_list[#out_list + 1] = config.classes[f.nested]
        walk(config.classes[f.nested])
      end
    end
  end
  walk(cls)
  return out_list
end

local function show_fields_text(cls, indent, emit)
  local lineage = cls:lineage()
  for i = #lineage, 1, -1 do
    local c = lineage[i]
    local own = {}
    for _, f in ipairs(cls.fields) do
      if f.declared_in == c.name then own[#own + 1] = f end
    end
    if #own > 0 then
      emit(indent .. paint("bold", "from " .. c.name) .. ":")
      for _, f in ipairs(own) do
        local default = f.default == nil and "null" or cli.value_text(f.default)
        emit(indent .. "  " .. paint("cyan", f.name) .. "  " .. paint("dim", f.type) .. " = " .. default)
        emit(indent .. "      " .. f.help)
        if f.choices then
          local c2 = {}
          for j, v in ipairs(f.choices) do c2[j] = type(v) == "string" and ("'" .. v .. "'") or cli.value_text(v) end
          emit(indent .. "      allowed: " .. table.concat(c2, ", "))
        end
        if f.set then emit(indent .. "      (a list is kept as a set: deduplicated and sorted)") end
        if f.to_dict == false then emit(indent .. "      (runtime only: never written to adapter_config.json)") end
      end
    end
  end
end

--- describe_class(cls [, emit]) -> text: the class, its method, and every
-- field grouped by the class that declares it, then its nested configs.
local function describe_class(cls, emit)
  local lines
  if not emit then
    lines = {}
    emit = function(l) lines[#lines + 1] = l end
  end
  local m = cli.method_of(cls)
  local head = paint("bold", cls.name)
  if m then
    head = head .. string.format("  (PeftType %s, method '%s', prefix '%s'%s, model %s)", m.peft_type, m.name,
      m.prefix, m.is_mixed_compatible and ", mixed-compatible" or "", m.model_cls and m.model_cls.name or "-")
  end
  emit(head)
  if cls.doc ~= "" then
    for l in (cls.doc .. "\n"):gmatch("(.-)\n") do emit(l) end
  end
  emit("")
  show_fields_text(cls, "", emit)
  for _, n in ipairs(nested_classes(cls)) do
    emit("")
    emit(paint("bold", "nested " .. n.name) .. ": " .. n.doc)
    show_fields_text(n, "  ", emit)
  end
  if lines then return table.concat(lines, "\n") end
end

return {
  describe_class = describe_class,
  usage = "peft show METHOD [--json]   (METHOD: a method name, a PeftType member or a class name)",
  options = { json = "flag" },
  run = function(opts, args)
    if #args ~= 1 then usage_error("expects one METHOD") end
    local cls = cli.resolve_class(args[1])
    local m = cli.method_of(cls)
    if opts.json then
      local fields = arr()
      for i, f in ipairs(cls.fields) do fields[i] = field_json(f) end
      local nested = {}
      for _, n in ipairs(nested_classes(cls)) do
        local nf = arr()
        for i, f in ipairs(n.fields) do nf[i] = field_json(f) end
        nested[n.name] = { doc = n.doc, fields = nf }
      end
      local lineage = arr()
      for i, c in ipairs(cls:lineage()) do lineage[i] = c.name end
      json_out {
        class = cls.name, peft_type = cls.peft_type or null, method = m and m.name or null,
        prefix = m and m.prefix or null, is_mixed_compatible = m and m.is_mixed_compatible or null,
        model_class = m and m.model_cls and m.model_cls.name or null, doc = cls.doc, lineage = lineage,
        is_prompt_learning = cls.is_prompt_learning, is_adaption_prompt = cls.is_adaption_prompt,
        fields = fields, nested = nested,
      }
      return 0
    end
    describe_class(cls, say)
    return 0
  end,
}
