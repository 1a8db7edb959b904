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

/// Upvalue 1: the Rust function; upvalue 2: the error marker.
unsafe extern "C-unwind" fn finish(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure created by `make_wrapper` with two upvalues;
    // every index used is within the frame's stack, grown by lua_checkstack first.
    unsafe {
        let n = ffi::lua_gettop(l);
        ffi::luaL_checkstack(l, 2, c"wrapper".as_ptr());
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

/// `make_wrapper(raw, marker)`: the C closure raising `raw`'s marked errors.
pub(crate) unsafe extern "C-unwind" fn make_wrapper(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua calls this with its arguments on the stack; we keep exactly two.
    unsafe {
        ffi::lua_settop(l, 2);
        ffi::lua_pushcclosure(l, finish, 2);
        1
    }
}

/// The `make_wrapper` function for a state.
pub(crate) fn make_wrapper_fn(lua: &mlua::Lua) -> mlua::Result<mlua::Function> {
    // SAFETY: `make_wrapper` follows the lua_CFunction protocol.
    unsafe { lua.create_c_function(make_wrapper) }
}
