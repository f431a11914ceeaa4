-- Shared helpers for the busted specs.
local M = {}

M.PEFT_BIN = os.getenv("PEFT_BIN") or "build/peft"
M.CORE_DIR = os.getenv("PEFT_CORE_DIR") or "build/lib"
M.PTYDRIVE = os.getenv("PTYDRIVE") or "build/ptydrive"
-- the executable whose saves honour PEFT_FAULT_BEFORE_RENAME (a test build)
M.FAULT_BIN = os.getenv("PEFT_FAULT_BIN") or "build/peft-faults"
-- the build the specs install into scratch prefixes
M.MAKE_BUILD = os.getenv("PEFT_MAKE_BUILD") or "build"

--- repl(script [, opts]) -> transcript, status: runs the peft REPL on a
-- pseudo-terminal (tests/c/ptydrive.c), driven by script lines
-- ("expect TEXT", "send TEXT" with \n \t \xHH escapes, "wait").
function M.repl(script, opts)
  opts = opts or {}
  local scale = tonumber(os.getenv("PEFT_TIMEOUT_SCALE") or "1")
  local r = M.run({ "-t", tostring((opts.timeout or 5000) * scale), "--", M.PEFT_BIN }, {
    cmd = M.PTYDRIVE, stdin = table.concat(script, "\n") .. "\n", env = opts.env })
  return r.out:gsub("\r", ""), r.code, r.err
end

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.q = sh_quote

--- A fresh temporary directory (removed by M.cleanup()).
local tmpdirs = {}
function M.tmpdir()
  local p = io.popen("mktemp -d /tmp/peft-spec.XXXXXX")
  local dir = p:read("l")
  p:close()
  tmpdirs[#tmpdirs + 1] = dir
  return dir
end

function M.cleanup()
  for _, d in ipairs(tmpdirs) do os.execute("rm -rf " .. sh_quote(d)) end
  tmpdirs = {}
end

function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- run(args [, opts]) -> { code=, out=, err= }
-- args: list of arguments to the peft executable (or opts.cmd for another
-- program); opts.stdin: text fed on standard input; opts.env: table of
-- environment variables; opts.sh_prefix: shell text run before the command
-- (e.g. "ulimit -f 0; ").
function M.run(args, opts)
  opts = opts or {}
  local dir = M.tmpdir()
  local parts = {}
  for k, v in pairs(opts.env or {}) do parts[#parts + 1] = k .. "=" .. sh_quote(v) end
  parts[#parts + 1] = sh_quote(opts.cmd or M.PEFT_BIN)
  for _, a in ipairs(args) do parts[#parts + 1] = sh_quote(a) end
  local cmd = (opts.sh_prefix or "") .. table.concat(parts, " ")
  if opts.stdin then
    M.write(dir .. "/in", opts.stdin)
    cmd = cmd .. " <" .. sh_quote(dir .. "/in")
  else
    cmd = cmd .. " </dev/null"
  end
  cmd = cmd .. " >" .. sh_quote(dir .. "/out") .. " 2>" .. sh_quote(dir .. "/err")
  local ok, how, code = os.execute(cmd)
  if how == "signal" then code = 128 + code end
  if ok then code = 0 end
  return { code = code, out = M.read(dir .. "/out") or "", err = M.read(dir .. "/err") or "" }
end

local DTYPE_BYTES = { F32 = 4, F16 = 2, BF16 = 2, F64 = 8, I64 = 8, I32 = 4, U8 = 1, I8 = 1, BOOL = 1 }

--- write_safetensors(path, tensors [, metadata]) -> path
-- tensors: list of { name, shape [, dtype = "F32"] }; the data region is
-- written sparse (a seek to its end), so large shapes cost nothing.
function M.write_safetensors(path, tensors, metadata)
  local json = require("peft").core.json_encode
  local header, offset = {}, 0
  for _, t in ipairs(tensors) do
    local dtype = t.dtype or t[3] or "F32"
    local n = 1
    for _, d in ipairs(t.shape or t[2]) do n = n * d end
    local bytes = n * DTYPE_BYTES[dtype]
    header[t.name or t[1]] = { dtype = dtype, shape = setmetatable(t.shape or t[2], require("peft").core.json_array_mt),
                               data_offsets = { offset, offset + bytes } }
    offset = offset + bytes
  end
  if metadata then header.__metadata__ = metadata end
  local text = next(header) and json(header) or "{}"
  local f = assert(io.open(path, "wb"))
  f:write(string.pack("<I8", #text), text)
  if offset > 0 then
    f:seek("cur", offset - 1)
    f:write("\0")
  end
  f:close()
  return path
end

-- A two-layer Llama-style model: vocab 100, hidden 64, 8 query heads of 8
-- and 4 key/value heads (k/v project to 32), MLP 128.
function M.llama_tensors()
  local t = { { "model.embed_tokens.weight", { 100, 64 } } }
  for i = 0, 1 do
    local p = "model.layers." .. i .. "."
    for _, x in ipairs {
      { "self_attn.q_proj.weight", { 64, 64 } }, { "self_attn.k_proj.weight", { 32, 64 } },
      { "self_attn.v_proj.weight", { 32, 64 } }, { "self_attn.o_proj.weight", { 64, 64 } },
      { "mlp.gate_proj.weight", { 128, 64 } }, { "mlp.up_proj.weight", { 128, 64 } },
      { "mlp.down_proj.weight", { 64, 128 } },
      { "input_layernorm.weight", { 64 } }, { "post_attention_layernorm.weight", { 64 } },
    } do
      t[#t + 1] = { p .. x[1], x[2] }
    end
  end
  t[#t + 1] = { "model.norm.weight", { 64 } }
  t[#t + 1] = { "lm_head.weight", { 100, 64 } }
  return t
end
-- per layer: q 4096 + k 2048 + v 2048 + o 4096 + gate 8192 + up 8192 + down 8192
--            + 2 norms 128 = 36992; two layers 73984; embed 6400 + norm 64 +
--            lm_head 6400 = 12864; total 86848
M.LLAMA_TOTAL = 86848

-- A one-block T5-style model: d_model 32, d_ff 64, vocab 100.
function M.t5_tensors()
  local t = { { "shared.weight", { 100, 32 } } }
  for _, stack in ipairs { "encoder", "decoder" } do
    local b = stack .. ".block.0.layer."
    for _, x in ipairs { "q", "k", "v", "o" } do t[#t + 1] = { b .. "0.SelfAttention." .. x .. ".weight", { 32, 32 } } end
    t[#t + 1] = { b .. "0.layer_norm.weight", { 32 } }
    local ff = "1."
    if stack == "decoder" then
      for _, x in ipairs { "q", "k", "v", "o" } do t[#t + 1] = { b .. "1.EncDecAttention." .. x .. ".weight", { 32, 32 } } end
      t[#t + 1] = { b .. "1.layer_norm.weight", { 32 } }
      ff = "2."
    end
    t[#t + 1] = { b .. ff .. "DenseReluDense.wi.weight", { 64, 32 } }
    t[#t + 1] = { b .. ff .. "DenseReluDense.wo.weight", { 32, 64 } }
    t[#t + 1] = { b .. ff .. "layer_norm.weight", { 32 } }
    t[#t + 1] = { stack .. ".final_layer_norm.weight", { 32 } }
  end
  t[#t + 1] = { "lm_head.weight", { 100, 32 } }
  return t
end

--- Calls fn and returns the error value it raises (fails if it does not).
--- The process id of this (the test) process.
function M.pid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("a"):match("^(%d+)")
  f:close()
  return pid
end

function M.error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, got none")
  return err
end

return M
