-- Failing systems and limits: saves onto a full or read-only file system
-- keep the old file, and every documented bound on what is read from disk
-- is checked just under and just over.
local peft = require "peft"
local helpers = require "helpers"

local q = helpers.q

local function can_mount()
  local dir = helpers.tmpdir()
  local ok = os.execute("mount -t tmpfs -o size=64k tmpfs " .. q(dir) .. " 2>/dev/null")
  if ok then os.execute("umount " .. q(dir)) end
  return ok, dir
end

describe("saving on a failing file system", function()
  local mounted = {}
  after_each(function()
    for _, d in ipairs(mounted) do os.execute("umount " .. q(d) .. " 2>/dev/null") end
    mounted = {}
    helpers.cleanup()
  end)

  local function tiny_fs(size)
    local ok, dir = can_mount()
    if not ok then return nil end
    assert.is_true(os.execute("mount -t tmpfs -o size=" .. size .. " tmpfs " .. q(dir)))
    mounted[#mounted + 1] = dir
    return dir
  end

  it("keeps the old file when the device is full", function()
    local dir = tiny_fs("32k")
    if not dir then
      pending("mounting a tiny tmpfs needs root (the ulimit test in loader_spec covers a write failure)")
      return
    end
    peft.IA3Config {}:save_pretrained(dir)
    local before = helpers.read(dir .. "/adapter_config.json")
    -- fill the rest of the device
    os.execute("dd if=/dev/zero of=" .. q(dir .. "/filler") .. " bs=1k count=64 2>/dev/null")
    local big = peft.IA3Config { base_model_name_or_path = string.rep("m", 20000) }
    local err = helpers.error_of(big.save_pretrained, big, dir)
    assert.are.equal("OSError", err.kind)
    assert.truthy(err.message:find("No space left on device", 1, true), err.message)
    assert.truthy(err.message:find("(the previous file, if any, is unchanged)", 1, true))
    assert.are.equal(before, helpers.read(dir .. "/adapter_config.json"))
    -- no temporary file left behind
    local p = io.popen("ls -A " .. q(dir))
    assert.are.equal("adapter_config.json\nfiller\n", p:read("a"))
    p:close()
  end)

  it("keeps the old file on a read-only file system", function()
    local dir = tiny_fs("64k")
    if not dir then
      pending("remounting read-only needs root")
      return
    end
    peft.IA3Config {}:save_pretrained(dir)
    local before = helpers.read(dir .. "/adapter_config.json")
    assert.is_true(os.execute("mount -o remount,ro " .. q(dir)))
    local err = helpers.error_of(function() peft.IA3Config { fan_in_fan_out = true }:save_pretrained(dir) end)
    assert.are.equal("OSError", err.kind)
    assert.truthy(err.message:find("Read-only file system", 1, true), err.message)
    assert.are.equal(before, helpers.read(dir .. "/adapter_config.json"))
  end)
end)

describe("limits on what is read from disk", function()
  after_each(helpers.cleanup)

  it("adapter_config.json: at most 16 MiB", function()
    local limit = peft.config.MAX_CONFIG_BYTES
    assert.are.equal(16 * 1024 * 1024, limit)
    local dir = helpers.tmpdir()
    local body = '{"peft_type": "IA3"}'
    helpers.write(dir .. "/adapter_config.json", body .. string.rep(" ", limit - #body))
    assert.are.equal("IA3Config", peft.from_pretrained(dir):get_class().name)
    helpers.write(dir .. "/adapter_config.json", body .. string.rep(" ", limit - #body + 1))
    local err = helpers.error_of(peft.from_pretrained, dir)
    assert.are.equal("OSError", err.kind)
    assert.truthy(err.message:find("the file has 16777217 bytes, more than the limit of 16777216", 1, true),
      err.message)
  end)

  it("JSON nesting: at most 512 levels", function()
    local function nested(depth) -- the object itself is level 1
      return '{"peft_type": "IA3", "x": ' .. string.rep("[", depth - 1) .. string.rep("]", depth - 1) .. "}"
    end
    local cfg = peft.from_json(nested(512), { quiet = true })
    assert.truthy(cfg:to_json():find('"x":', 1, true)) -- kept, and written back
    local err = helpers.error_of(peft.from_json, nested(513))
    assert.are.equal("JSONDecodeError", err.kind)
    assert.truthy(err.message:find("nesting too deep", 1, true), err.message)
  end)

  it("JSON strings: at most 1 MiB each", function()
    local max = 1024 * 1024
    local ok = peft.from_json('{"peft_type": "IA3", "base_model_name_or_path": "' .. string.rep("a", max) .. '"}')
    assert.are.equal(max, #ok.base_model_name_or_path)
    local err = helpers.error_of(peft.from_json,
      '{"peft_type": "IA3", "base_model_name_or_path": "' .. string.rep("a", max + 1) .. '"}')
    assert.are.equal("JSONDecodeError", err.kind)
    assert.truthy(err.message:find("string longer than the limit of 1048576 bytes", 1, true), err.message)
    -- with escapes too
    err = helpers.error_of(peft.from_json, '{"peft_type": "IA3", "k": "\\n' .. string.rep("a", max + 1) .. '"}')
    assert.truthy(err.message:find("string longer than the limit", 1, true))
  end)

  it("safetensors: a header of at most 100,000,000 bytes, 64 levels, 16 dimensions, 1 MiB names", function()
    local st = peft.safetensors
    local limit = 100000000
    -- the length is checked before anything is allocated
    local h, err = st.parse_header(string.pack("<I8", limit + 1) .. "{}", limit + 1 + 8 + 2)
    assert.is_nil(h)
    assert.are.equal("the header length 100000001 is larger than the limit of 100000000 bytes", err)
    local path = helpers.tmpdir() .. "/big.safetensors"
    local f = assert(io.open(path, "wb"))
    f:write(string.pack("<I8", limit), "{", string.rep(" ", limit - 2), "}")
    f:close()
    h, err = st.read_header(path)
    assert.truthy(h, err)
    assert.are.equal(0, #h.tensors)
    local function dims(n)
      local shape = {}
      for i = 1, n do shape[i] = "1" end
      local j = '{"t":{"dtype":"U8","shape":[' .. table.concat(shape, ",") .. '],"data_offsets":[0,1]}}'
      return st.parse_header(string.pack("<I8", #j) .. j .. "\0")
    end
    assert.truthy(dims(16))
    h, err = dims(17)
    assert.are.equal("tensor 't': 17 dimensions, more than 16", err)
    local function deep(n) -- the root is level 1, the tensor 2, the lists of a field it does not know 3 to n
      local j = '{"__metadata__":{"k":"v"},"x":{"junk":' .. string.rep("[", n - 2) .. string.rep("]", n - 2)
        .. ',"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
      return st.parse_header(string.pack("<I8", #j) .. j .. "\0")
    end
    h, err = deep(64)
    assert.truthy(h, err) -- the unknown field is passed over, as the reference implementation ignores it
    assert.are.equal(1, #h.tensors)
    h, err = deep(65)
    assert.truthy(err:find("nesting too deep (more than 64 levels)", 1, true), err)
    local name = string.rep("n", 1024 * 1024)
    local j = '{"' .. name .. '":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
    assert.truthy(st.parse_header(string.pack("<I8", #j) .. j .. "\0"))
    j = '{"' .. name .. 'n":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
    h, err = st.parse_header(string.pack("<I8", #j) .. j .. "\0")
    assert.truthy(err:find("string longer than the limit of 1048576 bytes", 1, true), err)
  end)

  it("registry names: at most 128 bytes", function()
    assert.are.equal(string.rep("A", 128), peft.add_peft_type(string.rep("A", 128)))
    local err = helpers.error_of(peft.add_peft_type, string.rep("B", 129))
    assert.are.equal("ValueError", err.kind)
    assert.truthy(err.message:find("longer than 128 bytes", 1, true))
  end)
end)
