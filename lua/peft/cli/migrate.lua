-- peft migrate: the command (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local core, config, errors, types = peft.core, peft.config, peft.errors, peft.types
local say, paint, json_out, arr, null, out = cli.say, cli.paint, cli.json_out, cli.arr, cli.null, cli.out
local usage_error = cli.usage_error

-- A line diff (longest common subsequence), unified-style without hunks.
local function line_diff(a, b)
  local x, y = {}, {}
  for l in (a .. "\n"):gmatch("(.-)\n") do x[#x + 1] = l end
  for l in (b .. "\n"):gmatch("(.-)\n") do y[#y + 1] = l end
  local n, m = #x, #y
  local L = {}
  for i = n + 1, 1, -1 do
    L[i] = {}
    for j = m + 1, 1, -1 do
      if i > n or j > m then
        L[i][j] = 0
      elseif x[i] == y[j] then
        L[i][j] = L[i + 1][j + 1] + 1
      else
        L[i][j] = math.max(L[i + 1][j], L[i][j + 1])
      end
    end
  end
  local lines, i, j = {}, 1, 1
  while i <= n or j <= m do
    if i <= n and j <= m and x[i] == y[j] then
      lines[#lines + 1] = " " .. x[i]
      i, j = i + 1, j + 1
    elseif j <= m and (i > n or L[i][j + 1] >= L[i + 1][j]) then
      lines[#lines + 1] = "+" .. y[j]
      j = j + 1
    else
      lines[#lines + 1] = "-" .. x[i]
      i = i + 1
    end
  end
  return lines
end
M.line_diff = line_diff

return {
  usage = "peft migrate PATH [--write] [--json]",
  options = { json = "flag", write = "flag" },
  run = function(opts, args)
    if #args ~= 1 then usage_error("expects one PATH") end
    local r = cli.load(args[1])
    if not r.ok then
      out.stderr:write("peft migrate: ", errors.message(r.error), "\n")
      return 1
    end
    local cfg = r.cfg
    local old_text = assert(core.read_file(r.path))
    local new_cfg, what = cfg, nil
    if cfg:get_class().name == "BoneConfig" then
      new_cfg = cfg:migrate()
      what = "BONE -> MISS"
    end
    local new_text = new_cfg:to_json()
    local changed = what ~= nil
    local diff = {}
    if changed then diff = line_diff(old_text, new_text) end
    local written = false
    if changed and opts.write then
      local dir = r.path:match("^(.*)/[^/]*$") or "."
      local okw, err = pcall(new_cfg.save_pretrained, new_cfg, dir)
      if not okw then
        out.stderr:write("peft migrate: ", errors.message(err), "\n")
        return 1
      end
      written = true
    end
    if opts.json then
      json_out { path = r.path, changed = changed, migration = what or null, written = written,
                 diff = arr(diff) }
      return 0
    end
    if not changed then
      say(r.path .. ": already in the current layout (" .. cfg:get_class().name .. "); nothing to migrate")
      return 0
    end
    say(paint("bold", r.path .. ": " .. what) .. (written and " (written)" or " (dry run; --write applies it)"))
    for _, l in ipairs(diff) do
      local c = l:sub(1, 1)
      if c == "+" then say(paint("green", l)) elseif c == "-" then say(paint("red", l)) else say(l) end
    end
    return 0
  end,
}
