//! The C-level wrapper around Rust library functions (the crate's only `unsafe`).
//!
//! A Rust function returns either its results, or the private marker `E` followed by
//! an error value; the wrapper raises that value with `lua_error`. It must be a C
//! function rather than Lua code: a Lua wrapper would turn `return redis.call(...)`
//! into a real tail call and lose the script's frame (and so the line number Redis
//! reports), while Lua 5.1 never tail-calls C functions.
//!
//! Invariant: these functions hold no Rust values with destructors, so Lua's
//! `longjmp` may pass through them.

use std::os::raw::c_int;

use mlua::ffi;

/// Upvalue 1: the Rust function; upvalue 2: the error marker; upvalue 3 says what
/// becomes of numeric arguments equal to -0.0 (mlua's Lua 5.1 conversion makes an
/// integral number an integer, losing the sign of zero): a light userdata replaces
/// them (`cjson.encode` knows its marker, see `cjson::negative_zero`), any other true
/// value passes them as the string "-0" (`redis.call` formats them as Redis does).
unsafe extern "C-unwind" fn finish(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure created by `make_wrapper` with three
    // upvalues; every index used is within the frame's stack, grown by
    // lua_checkstack first.
    unsafe {
        let n = ffi::lua_gettop(l);
        ffi::luaL_checkstack(l, 2, c"wrapper".as_ptr());
        if ffi::lua_toboolean(l, ffi::lua_upvalueindex(3)) != 0 {
            let marker = ffi::lua_type(l, ffi::lua_upvalueindex(3)) == ffi::LUA_TLIGHTUSERDATA;
            for i in 1..=n {
                if ffi::lua_type(l, i) == ffi::LUA_TNUMBER {
                    let d = ffi::lua_tonumber(l, i);
                    if d == 0.0 && d.is_sign_negative() {
                        if marker {
                            ffi::lua_pushvalue(l, ffi::lua_upvalueindex(3));
                        } else {
                            ffi::lua_pushstring(l, c"-0".as_ptr());
                        }
                        ffi::lua_replace(l, i);
                    }
                }
            }
        }
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_insert(l, 1);
        ffi::lua_call(l, n, ffi::LUA_MULTRET);
        let top = ffi::lua_gettop(l);
        if top >= 2 {
            ffi::luaL_checkstack(l, 1, c"wrapper".as_ptr());
            ffi::lua_pushvalue(l, ffi::lua_upvalueindex(2));
            let is_err = ffi::lua_rawequal(l, 1, -1) != 0;
            ffi::lua_settop(l, top);
            if is_err {
                ffi::lua_settop(l, 2);
                ffi::lua_error(l);
            }
        }
        top
    }
}

/// `make_wrapper(raw, marker [, keep_negative_zero])`: the C closure raising `raw`'s
/// marked errors.
pub(crate) unsafe extern "C-unwind" fn make_wrapper(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua calls this with its arguments on the stack; we keep exactly three.
    unsafe {
        ffi::lua_settop(l, 3);
        ffi::lua_pushcclosure(l, finish, 3);
        1
    }
}

/// The `make_wrapper` function for a state.
pub(crate) fn make_wrapper_fn(lua: &mlua::Lua) -> mlua::Result<mlua::Function> {
    // SAFETY: `make_wrapper` follows the lua_CFunction protocol.
    unsafe { lua.create_c_function(make_wrapper) }
}
