-- peft.extensions: user extension scripts (peft.load_extension, PEFT_PATH), each run
-- atomically: a script that raises leaves the registry as it was (peft.registry's journal).
local peft = require "peft"
local core = require "peft.core"
local errors = require "peft.errors"
local registry = require "peft.registry"

local M = {}

local ext_env_mt = { __index = _G, __newindex = _G }

--- Runs a script as an extension, atomically: if it raises, every PeftType
-- member, method and class it added is removed again. Returns true, or nil
-- and an ExtensionError value (the policy of load_extension_safe); see
-- load_extension for the raising form.
local function run_extension(path)
  local chunk, lerr = loadfile(path, "t", setmetatable({ peft = peft }, ext_env_mt))
  if not chunk then
    local msg = tostring(lerr)
    local kind = msg:find("cannot open", 1, true) and "FileNotFoundError" or "ExtensionError"
    return nil, errors.new(kind == "FileNotFoundError" and "ExtensionError" or kind,
      "extension " .. path .. " failed to load: " .. msg, { path = path, script = path })
  end
  local mark = registry.mark()
  local where
  local ok, err = xpcall(chunk, function(e)
    -- find the innermost line of the extension itself
    for level = 2, 40 do
      local info = debug.getinfo(level, "Sl")
      if not info then break end
      if info.short_src and info.currentline and info.currentline > 0
         and (info.source == "@" .. path) then
        where = info.short_src .. ":" .. info.currentline
        break
      end
    end
    return e
  end)
  if ok then
    registry.commit(mark)
    return true
  end
  registry.rollback(mark)
  local msg = errors.message(err)
  local text
  if type(err) == "string" then
    text = msg -- Lua already put "file:line:" in front
  else
    text = (where and (where .. ": ") or (path .. ": ")) .. msg
  end
  return nil, errors.new("ExtensionError", "extension " .. path .. " failed (registry rolled back): " .. text,
    { path = path, script = path, where = where, cause = err })
end

--- load(path): runs the script; raises an ExtensionError naming the script
-- and line when it fails (and the registry is as it was).
function M.load(path)
  if type(path) ~= "string" then
    errors.raise("TypeError", "load_extension expects a path, got " .. require("peft.types").kind(path))
  end
  local ok, err = run_extension(path)
  if not ok then error(err, 2) end
  return true
end

--- run(path) -> true | nil, error value
M.run = run_extension

--- files(peft_path) -> the *.lua files of the PEFT_PATH directories, in path
-- order then name order.
function M.files(peft_path)
  peft_path = peft_path or os.getenv("PEFT_PATH")
  local files = {}
  if not peft_path or peft_path == "" then return files end
  for dir in peft_path:gmatch("[^:]+") do
    local names = core.listdir(dir)
    if names then
      for _, n in ipairs(names) do
        if n:match("%.lua$") then
          local p = dir:gsub("/+$", "") .. "/" .. n
          if core.stat(p) == "file" then files[#files + 1] = p end
        end
      end
    end
  end
  return files
end

--- load_path(peft_path) -> failures: loads every extension of the path; a failing one is
-- reported through the warning channel (and listed) and the others still load.
function M.load_path(peft_path)
  local failures = {}
  for _, p in ipairs(M.files(peft_path)) do
    local ok, err = run_extension(p)
    if not ok then
      failures[#failures + 1] = err
      errors.warn(tostring(err))
    end
  end
  return failures
end

return M
