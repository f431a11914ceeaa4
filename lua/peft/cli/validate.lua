-- peft validate: the command (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local core, errors = peft.core, peft.errors
local say, paint, json_out, arr, null, out = cli.say, cli.paint, cli.json_out, cli.arr, cli.null, cli.out
local usage_error = cli.usage_error
local weights = require "peft.weights"

local each_config = cli.each_config

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
  local w = e.weights ~= null and e.weights or nil
  if e.status == "error" then
    local msg = e.error.message
    if w and not w.ok and e.error.kind == "ValueError" and msg:find("^the weights") then
      for _, pr in ipairs(w.problems) do
        say(paint("red", "FAIL") .. " " .. e.path .. ": weights: " .. pr)
      end
    elseif e.error.kind ~= "Warning" then
      say(paint("red", "FAIL") .. " " .. e.path .. ": " .. e.error.kind .. ": " .. cli.strip_path(msg, e.path))
    end
    for _, wn in ipairs(e.warnings) do say(paint("red", "FAIL") .. " " .. e.path .. ": warning: " .. wn) end
  elseif e.status == "warning" then
    for _, wn in ipairs(e.warnings) do say(paint("yellow", "WARN") .. " " .. e.path .. ": " .. wn) end
  end
  if w and w.note ~= null then
    say(paint("dim", "NOTE") .. " " .. e.path .. ": " .. w.note)
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
    local function missing(p, e)
      n_fail = n_fail + 1
      report { path = p, status = "error", class = null, peft_type = null, method = null, hub = null, error = e,
               warnings = arr(), weights = null }
    end
    local wopts = {} -- weights.check's options (the same beside for a whole walk)
    local function check(p, is_file, beside)
      local r = cli.load(p, opts.strict, is_file)
      local status
      local w
      -- (from a walk, beside tells at once whether there are weights to check: most often not)
      if r.ok and not opts["no-weights"] and (not beside or weights.find(r.path, beside)) then
        if wopts.beside ~= beside then wopts = { beside = beside } end
        local okw, res = pcall(weights.check, r.cfg, r.path, wopts)
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
        local cls = r.ok and r.cfg:get_class()
        local m = cls and cli.method_of(cls)
        local entry = { path = p, status = status, warnings = arr(r.warnings), class = cls and cls.name or null,
                        peft_type = cls and cls.peft_type or null, method = m and m.name or null,
                        hub = opts.json and cli.hub_json(p) or null, error = null, weights = null }
        if not r.ok then entry.error = cli.error_json(r.error, p) end
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
      json_out { files = results, summary = { files = total, ok = n_ok, warning = n_warn, error = n_fail },
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
