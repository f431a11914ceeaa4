-- scripts/fuzz-seeds.lua OUTDIR: writes seed inputs for the fuzz targets
-- from the tests' fixtures (run with the peft executable).
local peft = require "peft"
local core = peft.core
local out = assert(arg[1], "usage: peft scripts/fuzz-seeds.lua OUTDIR")

local function write(dir, name, bytes)
  assert(core.mkdir_p(out .. "/" .. dir))
  local f = assert(io.open(out .. "/" .. dir .. "/" .. name, "wb"))
  f:write(bytes)
  f:close()
end

-- configs: what PEFT writes for every class, and a few odd real-world shapes
local fixture = core.json_decode(assert(core.read_file("tests/fixtures/peft_defaults.json"))).configs
for name, fx in pairs(fixture) do write("fuzz_config", name .. ".json", fx.json) end
write("fuzz_config", "unknown-keys.json", '{"peft_type": "LORA", "enable_lora": [true], "r": 4}')
write("fuzz_config", "nested.json", '{"peft_type": "LORA", "init_lora_weights": "eva", "eva_config": {"rho": 2.0}}')
write("fuzz_config", "bone.json", '{"peft_type": "BONE", "r": 8, "target_modules": ["q"]}')
write("fuzz_config", "model.json", '{"model_type": "llama", "architectures": ["X"]}')

-- safetensors: valid files of a few shapes and dtypes
local function st(tensors)
  local header, off = {}, 0
  local sizes = { F32 = 4, F16 = 2, BF16 = 2, I64 = 8, U8 = 1, F4 = 0.5 }
  for _, t in ipairs(tensors) do
    local n = 1
    for _, d in ipairs(t[2]) do n = n * d end
    local bytes = math.tointeger(n * sizes[t[3] or "F32"])
    header[t[1]] = { dtype = t[3] or "F32", shape = setmetatable(t[2], core.json_array_mt),
                     data_offsets = { off, off + bytes } }
    off = off + bytes
  end
  header.__metadata__ = { format = "pt" }
  local text = core.json_encode(header)
  return string.pack("<I8", #text) .. text .. string.rep("\0", off)
end
write("fuzz_safetensors", "small.safetensors", st { { "a.lora_A.weight", { 2, 4 } }, { "a.lora_B.weight", { 4, 2 }, "BF16" } })
write("fuzz_safetensors", "scalar.safetensors", st { { "s", {}, "I64" }, { "e", { 0, 3 } }, { "b", { 3 }, "U8" } })
write("fuzz_safetensors", "f4.safetensors", st { { "q", { 4 }, "F4" } })
write("fuzz_safetensors", "empty.safetensors", string.pack("<I8", 2) .. "{}")

-- registry programs: add members, register, mark, roll back
write("fuzz_registry", "basic", "\0\4LORA\1\4lora\5lora_\0\0\1\2\1\7adalora\5lora_\4lora\0\1\3\4\4lora")
write("fuzz_registry", "ext", "\0\6MY_EXT\2\1\6my_ext\0\0\0\0\3\1\6my_ext\0\0\0\0")
