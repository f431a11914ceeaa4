-- peft ls: one row per adapter found under the PATHs (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local say, paint, json_out, arr, null = cli.say, cli.paint, cli.json_out, cli.arr, cli.null
local usage_error = cli.usage_error

local function cell(v)
  if v == nil or v == null then return "-" end
  if type(v) == "number" and math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
    return string.format("%d", v)
  end
  if type(v) == "table" then return cli.value_text(v) end
  return tostring(v)
end

-- target_modules in a few characters
local function targets_text(cls, tm)
  if not cls.field_map.target_modules then return "-" end
  if tm == nil or tm == null then return "(model default)" end
  if type(tm) == "string" then return tm end
  local names = {}
  for i, x in ipairs(tm) do names[i] = tostring(x) end
  if #names == 0 then return "[]" end
  return table.concat(names, ",")
end

-- a peft_version with a commit hash, shortened for the table
local function version_text(v)
  if type(v) ~= "string" then return cell(v) end
  local head, hash = v:match("^(.-@)(%x+)$")
  if hash and #hash > 8 then return head .. hash:sub(1, 8) end
  return v
end

-- the row of a config that cannot be loaded, or of a path that names none: error says why
local function failed_row(p, hub, e)
  return { path = p, hub = hub, ok = false, error = e, class = null, peft_type = null, method = null, task_type = null,
           r = null, alpha = null, target_modules = null, base_model_name_or_path = null, peft_version = null,
           weights = null, weights_path = null, warnings = 0 }
end

-- the row of one adapter_config.json (its JSON entry, and targets_text for the table)
local function row_of(p, is_file)
  local r = cli.load(p, false, is_file)
  if not r.ok then return failed_row(p, cli.hub_json(p), cli.error_json(r.error, p)) end
  local row = { path = p, hub = cli.hub_json(p), ok = true, error = null }
  local cfg = r.cfg
  local cls = cfg:get_class()
  local m = cli.method_of(cls)
  local ri = require("peft.cli.inspect").rank_info(cfg)
  local tm = cls.field_map.target_modules and cfg.target_modules
  local wpath, wkind = peft.weights.find(p)
  row.class, row.peft_type, row.method = cls.name, cls.peft_type, m and m.name or null
  row.task_type = cfg.task_type or null
  row.r = ri and ri.rank or null
  row.alpha = ri and ri.alpha or null
  row.target_modules = tm == nil and null or tm
  row.base_model_name_or_path = cfg.base_model_name_or_path or null
  row.peft_version = cfg:was_given("peft_version") and cfg.peft_version or null
  row.weights = wkind or null
  row.weights_path = wpath or null
  row.warnings = #r.warnings
  row.targets_text = targets_text(cls, tm)
  return row
end

return {
  usage = "peft ls PATH... [--json]   (PATH: a directory searched for adapter_config.json, a config, a Hub cache"
    .. " directory or a Hub id org/name[@revision])",
  details = "One row per adapter: path (a Hub cache snapshot is shown as org/name@ref), method, task type, rank,\n"
    .. "alpha, target_modules, base model, the peft_version that saved it, and the weights file beside it\n"
    .. "(safetensors, bin, or -). Directories are searched as validate searches them. Exit status 1 when a\n"
    .. "config cannot be loaded (its row says why) or nothing is found.\n",
  options = { json = "flag" },
  run = function(opts, args)
    if #args == 0 then usage_error("expects at least one PATH") end
    local rows, status = arr(), 0
    local function missing(p, e)
      status = 1
      rows[#rows + 1] = failed_row(p, null, e)
    end
    for _, a in ipairs(args) do
      cli.each_config(a, function(file, reg)
        local row = row_of(file, reg)
        if not row.ok then status = 1 end
        rows[#rows + 1] = row
      end, missing)
    end
    if #rows == 0 then
      cli.eprint("peft ls: no adapter_config.json found under ", table.concat(args, ", "))
      return 1
    end
    if opts.json then
      for _, row in ipairs(rows) do row.targets_text = nil end
      json_out { adapters = rows }
      return status
    end
    local head = { "PATH", "METHOD", "TASK", "R", "ALPHA", "TARGETS", "BASE MODEL", "PEFT", "WEIGHTS" }
    local cells = {}
    for i, row in ipairs(rows) do
      local label = row.hub ~= null and cli.hub_label(row.path) or row.path
      if row.ok then label = label:gsub("/adapter_config%.json$", "") end
      if row.ok then
        cells[i] = { label, row.method ~= null and row.method or row.class, cell(row.task_type), cell(row.r),
                     cell(row.alpha), row.targets_text, cell(row.base_model_name_or_path),
                     version_text(row.peft_version), cell(row.weights) }
      else
        cells[i] = { label, "invalid: " .. row.error.kind .. ": " .. row.error.message }
      end
    end
    -- widths from the shown text (escaped as say escapes it), the last column unpadded
    local width = {}
    for j, h in ipairs(head) do width[j] = #h end
    for _, c in ipairs(cells) do
      if #c > 2 then
        for j = 1, #head do width[j] = math.max(width[j], utf8.len(cli.shown(c[j])) or #cli.shown(c[j])) end
      else
        width[1] = math.max(width[1], utf8.len(cli.shown(c[1])) or #cli.shown(c[1]))
      end
    end
    local function line(c)
      local parts = {}
      for j = 1, #c do
        local text = cli.shown(c[j])
        local pad = j < #c and string.rep(" ", width[j] - (utf8.len(text) or #text)) or ""
        parts[j] = text .. pad
      end
      return table.concat(parts, "  ")
    end
    say(paint("bold", line(head)))
    for i, c in ipairs(cells) do
      local l = line(c)
      say(rows[i].ok and l or paint("red", l))
    end
    return status
  end,
}
