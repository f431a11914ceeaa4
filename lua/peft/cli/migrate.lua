-- peft migrate: upgrade an adapter from a layout PEFT no longer loads (BONE -> MISS), the
-- config and its weights together (see peft.cli for the conventions).
--
-- The weights are converted as PEFT's own scripts/convert-bone-to-miss.py does: every key's
-- ".bone_" becomes ".miss_". The new safetensors file gets a rewritten header and the tensor
-- bytes of the old one, copied unchanged; each file is written atomically. With --write the
-- weights go first, then the config; if the config cannot be written, the old weights are put
-- back, so the two never disagree after the command returns.
local peft = require "peft"
local cli = require "peft.cli"
local core, errors = peft.core, peft.errors
local say, paint, json_out, arr, null, out = cli.say, cli.paint, cli.json_out, cli.arr, cli.null, cli.out
local usage_error = cli.usage_error

local function dir_of(path) return path:match("^(.*)/[^/]*$") or "." end

-- A safetensors header (from core.st_read_header) as the bytes of a file's start: the 8-byte
-- length, then the JSON padded with spaces to a multiple of 8, as safetensors writes it.
local function header_bytes(h, rename)
  local obj = {}
  if h.metadata and next(h.metadata) then obj.__metadata__ = h.metadata end
  for _, t in ipairs(h.tensors) do
    obj[rename and rename(t.name) or t.name] = { dtype = t.dtype, shape = arr(t.shape),
                                                 data_offsets = arr { t.data_offsets[1], t.data_offsets[2] } }
  end
  local json = core.json_encode(obj)
  json = json .. string.rep(" ", (8 - #json % 8) % 8)
  return string.pack("<I8", #json) .. json
end

local function bone_to_miss(name)
  return (name:gsub("%.bone_", ".miss_"))
end

--- The weights beside a config, and what migrating them changes: { path, kind, link,
-- header, renamed = { { from, to } } } or nil when there are none.
local function weights_plan(config_path)
  local path, kind = peft.weights.find(config_path)
  if not path then return nil end
  local w = { path = path, kind = kind, link = core.lstat(path) == "link", renamed = {} }
  if kind ~= "safetensors" then return w end
  local h, err = core.st_read_header(path)
  if not h then errors.raise("ValueError", err, { path = path }) end
  w.header = h
  for _, t in ipairs(h.tensors) do
    local to = bone_to_miss(t.name)
    if to ~= t.name then w.renamed[#w.renamed + 1] = { from = t.name, to = to } end
  end
  return w
end

-- Writes the migrated weights to dest (atomically): the new header, then the old data region.
local function write_weights(w, dest)
  local h = w.header
  local ok, err = core.write_atomic(dest, header_bytes(h, bone_to_miss), w.path, 8 + h.header_size, h.data_size)
  if not ok then errors.raise("OSError", err, { path = dest }) end
  local check, cerr = core.st_read_header(dest)
  if not check then errors.raise("OSError", "the rewritten weights do not read back: " .. cerr, { path = dest }) end
end

return {
  usage = "peft migrate PATH [--to-peft VERSION] [--write | -o DIR] [--json]   (PATH: an adapter directory or its "
    .. "adapter_config.json)",
  details = "BONE adapters (removed from PEFT in 0.19) become MiSS adapters: peft_type MISS in the config, and the\n"
    .. "keys '.bone_' -> '.miss_' in adapter_model.safetensors (header rewritten, tensor bytes copied unchanged).\n"
    .. "Without --write or -o it prints a unified diff and the renamed keys. --write replaces the files in place\n"
    .. "(weights first, then the config; a failure puts the old weights back); -o DIR writes a migrated copy.\n"
    .. "--to-peft VERSION: a config that PEFT release loads with the same behaviour: keys it does not know are\n"
    .. "dropped when they hold their defaults (peft_version too), defaults it reads otherwise are written out, a\n"
    .. "method it knows under another name is renamed (MISS <-> BONE, with the weights' keys); when a setting\n"
    .. "would be lost, nothing is written and the settings are listed (exit status 1).\n",
  options = { json = "flag", write = "flag", o = "value", output = "value", ["to-peft"] = "value" },
  run = function(opts, args)
    if #args ~= 1 then usage_error("expects one PATH") end
    local dest_dir = opts.o or opts.output
    if dest_dir and opts.write then usage_error("--write and -o are exclusive: --write migrates in place") end
    if opts["to-peft"] then
      return require("peft.release_migrate").cli(opts, args, { header_bytes = header_bytes })
    end
    local r = cli.load(args[1])
    if not r.ok then
      cli.eprint("peft migrate: ", errors.message(r.error))
      return 1
    end
    local cfg = r.cfg
    if cfg:get_class().name ~= "BoneConfig" then
      if opts.json then
        json_out { path = r.path, changed = false, migration = null, written = false, output_dir = null, diff = arr(),
                   notes = arr(), weights = null }
      else
        say(r.path .. ": already in the current layout (" .. cfg:get_class().name .. "); nothing to migrate")
      end
      return 0
    end
    local what = "BONE -> MISS"
    local old_text = assert(core.read_file(r.path))
    local new_text = cfg:migrate():to_json()
    if old_text:find("\r\n", 1, true) then new_text = new_text:gsub("\n", "\r\n") end
    local diff = cli.unified_diff(old_text, new_text, r.path, r.path .. " (migrated)")
    local w = weights_plan(r.path)
    local notes = {}
    if w and w.kind == "bin" then
      notes[#notes + 1] = w.path .. " is a pickle file, which peft does not read or rewrite: convert it to "
        .. "safetensors first (the config alone would then disagree with it)"
    end
    if w and w.link and opts.write then
      notes[#notes + 1] = w.path .. " is a symbolic link (a Hub cache snapshot?): --write replaces the link with "
        .. "a migrated file; the file it points to is left as it is"
    end
    if core.lstat(r.path) == "link" and opts.write then
      notes[#notes + 1] = r.path .. " is a symbolic link (a Hub cache snapshot?): --write replaces the link with "
        .. "a migrated file; the file it points to is left as it is"
    end
    local written, target_dir = false, nil
    if (opts.write or dest_dir) and w and w.kind == "bin" then
      cli.eprint("peft migrate: ", notes[1], "; nothing written")
      return 1
    end
    if opts.write or dest_dir then
      local ok, err = pcall(function()
        local cfg_dest, w_dest
        if dest_dir then
          local d = dest_dir:gsub("/+$", "")
          if d == "" then d = "/" end
          local mk, merr = core.mkdir_p(d)
          if not mk then errors.raise("OSError", merr, { path = d }) end
          target_dir = d
          cfg_dest = d .. "/" .. peft.CONFIG_NAME
          w_dest = w and (d .. "/" .. peft.weights.WEIGHTS_NAME)
          if core.realpath(d) == core.realpath(dir_of(r.path)) then
            usage_error("-o names the adapter's own directory: use --write to migrate in place")
          end
        else
          target_dir = dir_of(r.path)
          cfg_dest, w_dest = r.path, w and w.path
        end
        if w then write_weights(w, w_dest) end
        local okc, cerr = core.write_atomic(cfg_dest, new_text)
        if not okc then
          if w and opts.write then
            -- put the old weights back: the old header over the same tensor bytes
            local h = w.header
            local new_h = core.st_read_header(w_dest)
            core.write_atomic(w_dest, header_bytes(h), w_dest, 8 + new_h.header_size, new_h.data_size)
          end
          errors.raise("OSError", cerr .. (w and opts.write and " (the weights were put back as they were)" or ""),
            { path = cfg_dest })
        end
      end)
      if not ok then
        if type(err) == "table" and getmetatable(err) and err.message and not errors.is_error(err) then
          error(err, 0) -- a usage error: the CLI reports it
        end
        cli.eprint("peft migrate: ", errors.message(err))
        return 1
      end
      written = true
    end
    if opts.json then
      local renamed = arr()
      for i, x in ipairs(w and w.renamed or {}) do renamed[i] = { from = x.from, to = x.to } end
      json_out { path = r.path, changed = true, migration = what, written = written,
                 output_dir = dest_dir and target_dir or null, diff = arr(diff), notes = arr(notes),
                 weights = w and { path = w.path, format = w.kind, link = w.link, renamed = renamed } or null }
      return 0
    end
    local how = written and (dest_dir and (" (written to " .. target_dir .. ")") or " (written)")
      or " (dry run; --write applies it, -o DIR writes a copy)"
    say(paint("bold", r.path .. ": " .. what) .. how)
    for _, l in ipairs(diff) do
      local c = l:sub(1, 1)
      if l:sub(1, 3) == "---" or l:sub(1, 3) == "+++" then say(paint("bold", l))
      elseif c == "@" then say(paint("cyan", l))
      elseif c == "+" then say(paint("green", l))
      elseif c == "-" then say(paint("red", l))
      else say(l) end
    end
    if w and w.kind == "safetensors" then
      say(string.format("%s: %d of %d keys renamed (.bone_ -> .miss_), tensor data unchanged", w.path, #w.renamed,
        #w.header.tensors))
      for i = 1, math.min(3, #w.renamed) do say("  " .. w.renamed[i].from .. " -> " .. w.renamed[i].to) end
      if #w.renamed > 3 then say(string.format("  ... and %d more", #w.renamed - 3)) end
    end
    for _, n in ipairs(notes) do say(paint("yellow", "note: ") .. n) end
    return 0
  end,
}
