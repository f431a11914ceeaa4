-- Every field's annotation (what `peft show` and help() print as its type) agrees
-- with the values the field accepts: each value its allowed list names appears in
-- the annotation's Literal, and each Literal value is accepted.
local peft = require "peft"
local helpers = require "helpers"
local types = require "peft.types"
local field = require "peft.config.field"

-- the disagreements in fields: { "Class.field: ..." }
local function disagreements()
  local out = {}
  for _, name in ipairs(peft.config.order) do
    local cls = peft.config.classes[name]
    for _, f in ipairs(cls.fields) do
      local literal = types.choices(types.parse(f.type)) or {}
      local in_annotation = {}
      for _, v in ipairs(literal) do in_annotation[types.repr(v)] = true end
      for _, c in ipairs(f.choices or {}) do
        if not in_annotation[types.repr(c)] then
          out[#out + 1] = string.format("%s.%s: %s is allowed but not in the annotation %s", name, f.name,
            types.repr(c), f.type)
        end
      end
      for _, v in ipairs(literal) do
        if not types.check(f.node, v, field.resolve) then
          out[#out + 1] = string.format("%s.%s: %s is in the annotation but refused", name, f.name, types.repr(v))
        end
      end
    end
  end
  return out
end

describe("field annotations", function()
  it("agree with the allowed values, for every field of every class", function()
    assert.are.same({}, disagreements())
  end)

  it("init_lora_weights lists 'lora_ga' (LoRA's and AdaLoRA's), as peft show and help() print it", function()
    for _, cls in ipairs { peft.LoraConfig, peft.AdaLoraConfig } do
      local f = cls:field("init_lora_weights")
      assert.truthy(f.type:find("'lora_ga'", 1, true), f.type)
      assert.truthy(f.choices and #f.choices > 0)
    end
    local r = helpers.run { "show", "lora" }
    local line = r.out:match("\n  init_lora_weights  ([^\n]+)")
    assert.truthy(line:find("'mica', 'lora_ga']", 1, true), line)
  end)

  it("the check finds a field whose annotation leaves out an allowed value", function()
    -- the test above could not fail if the check found nothing: declare such a field
    local name = "AnnotationProbeConfig"
    local cls = peft.declare_helper { name = name, fields = {
      { "mode", "Literal['a', 'b']", "a", "A mode.", check_type = "Literal['a', 'b', 'c']" },
    } }
    local found = disagreements()
    peft.config.classes[name] = nil
    for i, n in ipairs(peft.config.order) do
      if n == name then table.remove(peft.config.order, i) break end
    end
    assert.truthy(cls)
    assert.are.same({ name .. ".mode: \"c\" is allowed but not in the annotation Literal['a', 'b']" }, found)
  end)
end)
