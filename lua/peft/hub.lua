-- peft.hub: adapters in the local Hugging Face Hub cache, found offline.
--
-- The cache keeps a model repository as <cache>/models--ORG--NAME/ with
-- refs/<branch or tag> (a file holding a commit hash), snapshots/<commit>/
-- (the files, as links into blobs/) and blobs/. This module turns what a user
-- types into the snapshot directory it means:
--
--   a path that exists                    itself (a cache repository directory
--                                         models--ORG--NAME: its refs/main snapshot)
--   CACHE/models--ORG--NAME@REVISION      that repository at REVISION
--   ORG/NAME or ORG/NAME@REVISION         looked up in the cache directories, in
--                                         order: $HF_HUB_CACHE, $HF_HOME/hub,
--                                         $XDG_CACHE_HOME/huggingface/hub,
--                                         ~/.cache/huggingface/hub
--
-- REVISION is a branch or tag (refs/REVISION), a commit hash or a prefix of one
-- (at least 7 hexadecimal digits) naming one snapshot. Nothing is downloaded.
local core = require "peft.core"

local M = {}

local REPO_PART = "[%w][%w%-%_%.]*"

--- cache_dirs() -> { { dir =, why = } ... }: where Hub ids are looked up, in order
-- (each directory once; those whose variable is unset are left out).
function M.cache_dirs()
  local out, seen = {}, {}
  local function add(dir, why)
    if dir and dir ~= "" then
      dir = dir:gsub("(.)/+$", "%1")
      if not seen[dir] then
        seen[dir] = true
        out[#out + 1] = { dir = dir, why = why }
      end
    end
  end
  local env = os.getenv
  add(env("HF_HUB_CACHE"), "HF_HUB_CACHE")
  local hf_home = env("HF_HOME")
  if hf_home and hf_home ~= "" then add(hf_home .. "/hub", "HF_HOME/hub") end
  local xdg = env("XDG_CACHE_HOME")
  if xdg and xdg ~= "" then add(xdg .. "/huggingface/hub", "XDG_CACHE_HOME/huggingface/hub") end
  local home = env("HOME")
  if home and home ~= "" then add(home .. "/.cache/huggingface/hub", "the default") end
  return out
end

--- parse_id(s) -> repo, revision (or nil): "org/name" or "org/name@revision"
function M.parse_id(s)
  if type(s) ~= "string" then return nil end
  local repo, rev = s:match("^([^@]+)@(.+)$")
  repo = repo or s
  local org, name = repo:match("^(" .. REPO_PART .. ")/(" .. REPO_PART .. ")$")
  if not org or #org > 96 or #name > 96 then return nil end
  if repo:find("..", 1, true) or repo:find("--", 1, true) then return nil end
  -- a file name, not a repository: its own "no such file" is the better message
  if name:match("%.json$") or name:match("%.safetensors$") or name:match("%.bin$") then return nil end
  if rev and (rev:find("..", 1, true) or rev:find("^/") or rev:find("/$")) then return nil end
  return repo, rev
end

--- folder(repo) -> the cache folder's name: "org/name" -> "models--org--name"
function M.folder(repo) return "models--" .. repo:gsub("/", "--") end

-- "models--org--name" -> "org/name"
local function repo_of(folder)
  local rest = folder:match("^models%-%-(.+)$")
  if not rest then return nil end
  return (rest:gsub("%-%-", "/"))
end

local function is_repo_dir(path)
  local base = path:gsub("/+$", ""):match("([^/]+)$")
  return base ~= nil and repo_of(base) ~= nil and core.stat(path) == "directory"
    and (core.stat(path .. "/snapshots") == "directory" or core.stat(path .. "/refs") == "directory")
end
M.is_repo_dir = is_repo_dir

local function read_ref(path)
  local text = core.read_file(path, 4096)
  if not text then return nil end
  local hash = text:match("^%s*(%x+)%s*$")
  return hash
end

-- every ref of a repository directory: { name = commit } (refs/pr/1 included)
local function refs_of(dir)
  local refs = {}
  local function walk(sub, prefix)
    local names, kinds = core.listdir(sub)
    if not names then return end
    for i, n in ipairs(names) do
      local p = sub .. "/" .. n
      local kind = kinds[i] or core.stat(p)
      if kind == "directory" then
        if #prefix < 200 then walk(p, prefix .. n .. "/") end
      else
        local hash = read_ref(p)
        if hash then refs[prefix .. n] = hash end
      end
    end
  end
  walk(dir .. "/refs", "")
  return refs
end

local function snapshots_of(dir)
  local names, kinds = core.listdir(dir .. "/snapshots")
  local out = {}
  for i, n in ipairs(names or {}) do
    if (kinds[i] or core.stat(dir .. "/snapshots/" .. n)) == "directory" then out[#out + 1] = n end
  end
  return out
end

-- what a repository directory holds, for messages
local function holdings(dir)
  local refs = refs_of(dir)
  local names = {}
  for k in pairs(refs) do names[#names + 1] = k end
  table.sort(names)
  local snaps = snapshots_of(dir)
  for i, s in ipairs(snaps) do snaps[i] = s:sub(1, 12) end
  return string.format("refs: %s; snapshots: %s", #names > 0 and table.concat(names, ", ") or "none",
    #snaps > 0 and table.concat(snaps, ", ") or "none")
end

--- snapshot(dir, revision) -> path, info | nil, message: the snapshot of a
-- repository directory at revision (nil: refs/main, or the only snapshot when
-- there is no refs/main)
function M.snapshot(dir, revision, shown)
  dir = dir:gsub("(.)/+$", "%1")
  shown = shown or dir
  local repo = repo_of(dir:match("([^/]+)$") or "") or "?"
  local rev = revision or "main"
  local commit = read_ref(dir .. "/refs/" .. rev)
  local how = commit and ("refs/" .. rev) or nil
  if not commit then
    local snaps = snapshots_of(dir)
    if core.stat(dir .. "/snapshots/" .. rev) == "directory" then
      commit, how = rev, "commit"
    elseif revision and rev:match("^%x+$") and #rev >= 7 then
      local found = {}
      for _, s in ipairs(snaps) do
        if s:sub(1, #rev) == rev:lower() then found[#found + 1] = s end
      end
      if #found > 1 then
        return nil, string.format("%s: revision '%s' is the start of %d snapshots (%s): give more digits", shown,
          rev, #found, table.concat(found, ", "))
      end
      commit, how = found[1], found[1] and "commit"
    elseif not revision and #snaps == 1 then
      commit, how = snaps[1], "the only snapshot"
    end
  end
  if not commit then
    if revision then
      return nil, string.format("%s: revision '%s' is not in the cache at %s (%s)", shown, rev, dir, holdings(dir))
    end
    return nil, string.format("%s: the cache at %s has no refs/main (%s): name one as %s@REVISION", shown, dir,
      holdings(dir), repo)
  end
  local path = dir .. "/snapshots/" .. commit
  if core.stat(path) ~= "directory" then
    return nil, string.format("%s: %s names commit %s, but the cache at %s has no snapshot of it (%s)", shown,
      how, commit, dir, holdings(dir))
  end
  return path, { repo = repo, revision = revision or "main", commit = commit, dir = dir, via = how }
end

--- resolve(arg) -> path, info | nil, message
-- path: arg itself when it exists or does not look like the Hub (info nil), else
-- the snapshot directory it names (info: repo, revision, commit, dir, via).
function M.resolve(arg)
  if type(arg) ~= "string" or arg == "" then return arg end
  local kind = core.stat(arg)
  if kind then
    if kind == "directory" and is_repo_dir(arg) and not core.lstat(arg:gsub("/+$", "") .. "/adapter_config.json") then
      return M.snapshot(arg, nil, arg)
    end
    return arg
  end
  -- CACHE/models--org--name@revision
  local base, rev = arg:match("^(.*models%-%-[^/]+)@([^@]+)$")
  if base and is_repo_dir(base) then return M.snapshot(base, rev, arg) end
  local repo, revision = M.parse_id(arg)
  if not repo then return arg end
  local looked = {}
  for _, c in ipairs(M.cache_dirs()) do
    local dir = c.dir .. "/" .. M.folder(repo)
    if core.stat(dir) == "directory" then return M.snapshot(dir, revision, arg) end
    looked[#looked + 1] = c.dir .. " (" .. c.why .. ")"
  end
  return nil, string.format("%s: no such file or directory, and %s is not in the Hugging Face cache (looked for %s"
    .. " in %s); peft does not download: fetch it first (huggingface-cli download %s)", arg, repo, M.folder(repo),
    #looked > 0 and table.concat(looked, ", ") or "no cache directory: HOME is not set", repo)
end

--- describe(path) -> info | nil: the repository, commit and refs of a path
-- inside a cache snapshot (.../models--org--name/snapshots/COMMIT/...)
function M.describe(path)
  if type(path) ~= "string" then return nil end
  local dir, folder, commit, rest = path:match("^(.-/?(models%-%-[^/]+))/snapshots/([^/]+)(.*)$")
  if not dir then return nil end
  local repo = repo_of(folder)
  local names = {}
  for name, hash in pairs(refs_of(dir)) do
    if hash == commit then names[#names + 1] = name end
  end
  table.sort(names)
  local sub = rest:gsub("^/", ""):gsub("/?adapter_config%.json$", "")
  return { repo = repo, commit = commit, refs = names, dir = dir, subfolder = sub ~= "" and sub or nil }
end

--- label(info) -> "org/name@main" (a ref naming the commit), else "org/name@COMMIT12"
function M.label(info)
  local rev = info.refs and info.refs[1] or info.commit:sub(1, 12)
  for _, r in ipairs(info.refs or {}) do
    if r == "main" then rev = r end
  end
  return info.repo .. "@" .. rev .. (info.subfolder and ("/" .. info.subfolder) or "")
end

return M
