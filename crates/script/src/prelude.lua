-- Shoal's script sandbox, run once per Lua state with the real globals R, the
-- private table H, the error marker E and the table of Rust-implemented libraries
-- L. It creates the proxy G that scripts see as their globals. Chunk name "=shoal": the
-- error handler and position helpers skip frames of this chunk.
local R, H, E, L = ...
local error, type, tostring, select = error, type, tostring, select
local rawget_, rawset_, next_ = rawget, rawset, next
local setmetatable_, getmetatable_ = setmetatable, getmetatable
local pcall_, loadstring_, setfenv_ = pcall, loadstring, setfenv
local tinsert, tremove, tsort, tsetn = table.insert, table.remove, table.sort, table.setn
local concat = table.concat

-- proxy -> real table, for every read-only table.
local PROXY = {}
local RO_TEXT = "Attempt to modify a readonly table"
local function ro() error(RO_TEXT, 2) end

local function readonly(real)
  local p = {}
  setmetatable_(p, { __index = real, __newindex = ro })
  PROXY[p] = real
  return p
end
H.readonly = readonly
local G = readonly(R)
H.G = G

-- Results of a Rust function: E first means "raise the next value" (a C closure,
-- see cwrap.rs).
local make_wrapper = H.make_wrapper
local function wrap(raw) return make_wrapper(raw, E) end
H.wrap = wrap
-- A library may name, in its `__negzero` table, functions whose -0 arguments are
-- replaced by a marker (see cwrap.rs); the table itself is not exported.
local function wrap_lib(t)
  local out = {}
  local negzero = t.__negzero or {}
  for k, v in next_, t do
    if k == "__negzero" then
    elseif type(v) == "function" then out[k] = make_wrapper(v, E, negzero[k]) else out[k] = v end
  end
  return out
end
H.wrap_lib = wrap_lib

local function check_rw(t)
  if PROXY[t] then error(RO_TEXT, 0) end
end

R.rawset = function(t, k, v) check_rw(t) return rawset_(t, k, v) end
R.rawget = function(t, k) return rawget_(PROXY[t] or t, k) end
local function next(t, k) return next_(PROXY[t] or t, k) end
R.next = next
R.pairs = function(t)
  if type(t) ~= "table" then error("bad argument #1 to 'pairs' (table expected, got " .. type(t) .. ")", 2) end
  return next, t, nil
end
local G_MT = readonly({})
-- Strings' shared metatable, read-only as in Redis (set by finalize).
local STRING_MT = nil
R.setmetatable = function(t, mt) check_rw(t) return setmetatable_(t, mt) end
R.getmetatable = function(t)
  if STRING_MT and type(t) == "string" then return STRING_MT end
  if PROXY[t] then
    if rawequal(t, G) then return G_MT end
    return nil
  end
  return getmetatable_(t)
end

-- pcall reports an error table by its message, as Redis's pcall does.
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == "table" then
    local m = rawget_(e, "err")
    if type(m) == "string" then return false, m end
  end
  return false, e
end
R.pcall = function(...) return pcall_result(pcall_(...)) end

-- Source chunks only: bytecode could corrupt the VM.
R.loadstring = function(s, name)
  if type(s) == "string" and s:byte(1) == 27 then
    return nil, "bytecode loading is not allowed"
  end
  return loadstring_(s, name)
end
R.load = function(f, name)
  if type(f) ~= "function" then
    error("bad argument #1 to 'load' (function expected, got " .. type(f) .. ")", 2)
  end
  local parts = {}
  for _ = 1, 1000000 do
    local piece = f()
    if piece == nil or piece == "" then break end
    if type(piece) ~= "string" then return nil, "reader function must return a string" end
    parts[#parts + 1] = piece
  end
  return R.loadstring(concat(parts), name)
end

local tbl = R.table
local function guard1(f) return function(t, ...) check_rw(t) return f(t, ...) end end
tbl.insert = guard1(tinsert)
tbl.remove = guard1(tremove)
tbl.sort = guard1(tsort)
if tsetn then tbl.setn = guard1(tsetn) end

-- Rust libraries.
for name, lib in next_, L do
  R[name] = wrap_lib(lib)
end

-- Private helpers kept for the engine.
H.setfenv = setfenv_
H.pcall = pcall_
H.xpcall = xpcall
H.run = function(f, handler, a, b)
  return xpcall(function() return f(a, b) end, handler)
end

-- Missing globals are an error.
local function missing(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
H.missing_mt = { __index = missing }

-- Remove what scripts must not reach.
R.setfenv, R.getfenv, R.module, R.require, R.newproxy, R.dofile, R.loadfile = nil, nil, nil, nil, nil, nil, nil
R.package, R.os, R.io, R.debug, R.print = nil, nil, nil, nil, nil

H.set_index = function(p, t) getmetatable_(p).__index = t end
H.finalize = function(libs)
  for _, name in next_, libs do
    local t = rawget_(R, name)
    if t ~= nil then R[name] = readonly(t) end
  end
  local smt = getmetatable_("")
  if smt then
    smt.__index = R.string
    STRING_MT = readonly(smt)
  end
  R._G = G
  setmetatable_(R, H.missing_mt)
  setfenv_(0, G)
end

