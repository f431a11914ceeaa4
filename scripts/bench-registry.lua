-- scripts/bench-registry.lua: registry look-ups must not slow down as
-- methods are added. Times look-ups with the 45 built-ins, registers 10,000
-- extension methods, times the same look-ups again (PeftType membership and
-- the prefix and config mappings, which allocate nothing). Run with the peft
-- executable; prints "before_ns after_ns ratio".
local core = peft.core
local N = 200000

local function time_lookups()
  local names = { "LORA", "IA3", "LOHA", "VERA", "DEFT", "ADALORA", "OFT", "BONE" }
  local t0 = os.clock()
  for i = 1, N do
    local t = names[i % #names + 1]
    core.mapping_get("prefix", t)
    core.mapping_get("config", t)
    core.type_index(t)
  end
  return (os.clock() - t0) / N * 1e9
end

local before = math.huge
for _ = 1, 5 do before = math.min(before, time_lookups()) end
for i = 1, 10000 do
  local member = "EXT_" .. i
  peft.add_peft_type(member)
  local cls = peft.declare_config { name = "ExtConfig" .. i, peft_type = member, fields = {} }
  peft.register_peft_method { name = member:lower(), config_cls = cls,
                              model_cls = peft.declare_model { name = "ExtModel" .. i } }
end
local after = math.huge
for _ = 1, 5 do after = math.min(after, time_lookups()) end
print(string.format("%.0f %.0f %.2f", before, after, after / before))
