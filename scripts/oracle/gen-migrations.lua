-- scripts/oracle/gen-migrations.lua OUT_DIR FILE...
-- For each adapter_config.json given and each PEFT release, writes what `peft migrate --to-peft RELEASE`
-- makes of it (when it can, and when that changes the file) to OUT_DIR/<release>/<name>, and a manifest
-- OUT_DIR/manifest.json: [{ input, release, output }]. Run each release's own loading code on
-- OUT_DIR/<release>/*.json (../shared/oracle/release_load.py), then record-migrations.py makes the fixture.
-- Run with the peft executable: build/peft scripts/oracle/gen-migrations.lua /tmp/mig FILES...
local peft = require "peft"
local core = peft.core
local rm = require "peft.release_migrate"
local registry = require "peft.target_registry"

local out_dir = arg[1]
if not out_dir or #arg < 2 then
  io.stderr:write("usage: peft scripts/oracle/gen-migrations.lua OUT_DIR FILE...\n")
  os.exit(2)
end
local releases = {}
for _, e in ipairs(registry.list()) do
  if e.kind == "peft" and e.spec.loading ~= "none" then releases[#releases + 1] = e.version end
end
local manifest = setmetatable({}, core.json_array_mt)
local n_ok, n_refused = 0, 0
for i = 2, #arg do
  local file = arg[i]
  local name = file:match("([^/]+)$")
  for _, v in ipairs(releases) do
    local ok, plan = pcall(rm.plan, file, v)
    if ok and plan.ok and plan.changed then
      local dir = out_dir .. "/" .. v
      assert(core.mkdir_p(dir))
      local out = dir .. "/" .. name
      assert(core.write_atomic(out, plan.text))
      manifest[#manifest + 1] = { input = name, release = v, output = out }
      n_ok = n_ok + 1
    elseif ok and not plan.ok then
      n_refused = n_refused + 1
    end
  end
end
assert(core.write_atomic(out_dir .. "/manifest.json", core.json_encode(manifest, 1)))
io.stderr:write(string.format("gen-migrations: %d migrated configs written, %d refused\n", n_ok, n_refused))
