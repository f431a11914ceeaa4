-- peft validate: the command (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local core, config, errors = peft.core, peft.config, peft.errors
local say, paint, json_out, arr, null, out = cli.say, cli.paint, cli.json_out, cli.arr, cli.null, cli.out
local usage_error = cli.usage_error
local weights = require "peft.weights"

-- Visits every adapter_config.json under path (a file is itself):
-- visit(path, is_regular_file [, beside]); visit_missing(path) for a path that does
-- not exist, or (path, message) for a directory that cannot be read (no
-- permission, a path longer than PATH_MAX: reported, as find reports them).
-- Directories are searched depth first in sorted order; links to files
-- count, links to directories are not followed; something else called
-- adapter_config.json (a FIFO, a dangling link) is visited, and refused
-- when it is read. beside(name), during a visit in a walk: whether the file's
-- directory holds name (from the walk's listing: no stat).
local function each_config(path, visit, visit_missing)
  local kind = core.stat(path)
  if kind == "directory" then
    local files, beside = core.walk_files(path, config.CONFIG_NAME)
    if not files then return visit_missing(path, beside) end
    for p, reg, werr in files do
      if werr then visit_missing(p, werr) else visit(p, reg, beside) end
    end
  elseif kind then
    visit(path, kind == "file")
  else
    visit_missing(path)
  end
end

local function progress(done, total)
  local cols = core.term_columns(2) or 80
  local label = string.format(" %d/%d", done, total)
  local width = math.max(10, math.min(50, cols - #label - 4))
  local filled = math.floor(width * done / total)
  out.stderr:write("\r[" .. string.rep("#", filled) .. string.rep(".", width - filled) .. "]" .. label)
  if done == total then out.stderr:write("\r" .. string.rep(" ", width + #label + 3) .. "\r") end
  out.stderr:flush()
end

-- the text report's lines for one file (only those with something to say get here)
local function print_entry(e)
  if e.status == "error" then
    local msg = e.error.message
    if e.weights and not e.weights.ok and e.error.kind == "ValueError" and msg:find("^the weights") then
      for _, pr in ipairs(e.weights.problems) do
        say(paint("red", "FAIL") .. " " .. e.path .. ": weights: " .. pr)
      end
    elseif e.error.kind ~= "Warning" then
      say(paint("red", "FAIL") .. " " .. e.path .. ": " .. e.error.kind .. ": " .. cli.strip_path(msg, e.path))
    end
    for _, w in ipairs(e.warnings) do say(paint("red", "FAIL") .. " " .. e.path .. ": warning: " .. w) end
  elseif e.status == "warning" then
    for _, w in ipairs(e.warnings) do say(paint("yellow", "WARN") .. " " .. e.path .. ": " .. w) end
  end
  if e.weights and e.weights.note ~= null then
    say(paint("dim", "NOTE") .. " " .. e.path .. ": " .. e.weights.note)
  end
end

return {
  usage = "peft validate PATH... [--strict] [--no-weights] [--json]   (--strict: warnings and unknown keys fail"
    .. " too)",
  details = "With adapter_model.safetensors beside a config, its header is read and checked against the config\n"
    .. "(methods, targeted modules, ranks, DoRA magnitudes, modules_to_save); --no-weights skips that. An\n"
    .. "adapter_model.bin (a pickle file) is never read; the report says so.\n",
  options = { json = "flag", strict = "flag", ["no-weights"] = "flag" },
  run = function(opts, args)
    if #args == 0 then usage_error("expects at least one PATH") end
    local results = arr()
    -- the text report is printed as the files are checked (memory stays flat), unless a
    -- progress bar holds the terminal: then at the end, as the JSON report is
    local stream = not opts.json and not core.isatty(2)
    local function report(entry)
      if stream then print_entry(entry) else results[#results + 1] = entry end
    end
    local n_ok, n_warn, n_fail = 0, 0, 0
    local function missing(p, unreadable)
      n_fail = n_fail + 1
      report { path = p, status = "error",
        error = unreadable and { kind = "OSError", message = unreadable, field = null }
          or { kind = "FileNotFoundError", message = p .. ": no such file or directory", field = null },
        warnings = arr() }
    end
    local function check(p, is_file, beside)
      local r = cli.load(p, opts.strict, is_file)
      local status
      local w
      if r.ok and not opts["no-weights"] then
        local okw, res = pcall(weights.check, r.cfg, r.path, { beside = beside })
        if okw then w = res else w = { ok = false, problems = { errors.message(res) } } end
      end
      if not r.ok or (w and not w.ok) then
        status = "error"
        n_fail = n_fail + 1
      elseif #r.warnings > 0 then
        if opts.strict then
          status = "error"
          n_fail = n_fail + 1
        else
          status = "warning"
          n_warn = n_warn + 1
        end
      else
        status = "ok"
        n_ok = n_ok + 1
      end
      -- the text report lists only the files with something to say
      if opts.json or status ~= "ok" or (w and w.note) then
        local entry = { path = p, status = status, warnings = arr(r.warnings) }
        if not r.ok then entry.error = cli.error_json(r.error) end
        if w then
          entry.weights = cli.weights_json(w)
          if not w.ok and r.ok then
            entry.error = { kind = "ValueError", message = "the weights do not match the config: "
              .. table.concat(w.problems, "; "), field = null }
          end
        end
        if r.ok and opts.strict and #r.warnings > 0 then
          entry.error = { kind = "Warning", message = "warnings are failures in strict mode", field = null }
        end
        report(entry)
      end
    end
    if not opts.json and core.isatty(2) then
      -- a progress bar needs the count first
      local files, regular = {}, {}
      for _, a in ipairs(args) do
        each_config(a, function(p, reg)
          files[#files + 1] = p
          regular[p] = reg
        end, missing)
      end
      for i, p in ipairs(files) do
        check(p, regular[p])
        if #files >= 20 then progress(i, #files) end
      end
    else
      -- otherwise each file is checked as it is found: memory stays flat
      for _, a in ipairs(args) do each_config(a, check, missing) end
    end
    local total = n_ok + n_warn + n_fail
    if total == 0 then
      cli.eprint("peft validate: no adapter_config.json found under ", table.concat(args, ", "),
        " (name other files directly)")
      return 1
    end
    if opts.json then
      json_out { files = results, summary = { files = total, valid = n_ok, warnings = n_warn, invalid = n_fail },
                 strict = opts.strict or false }
    else
      for _, e in ipairs(results) do print_entry(e) end
      local summary = string.format("%d file%s: %d valid, %d with warnings, %d invalid", total,
        total == 1 and "" or "s", n_ok, n_warn, n_fail)
      say(n_fail > 0 and paint("red", summary) or (n_warn > 0 and paint("yellow", summary) or paint("green", summary)))
    end
    return n_fail > 0 and 1 or 0
  end,
}
