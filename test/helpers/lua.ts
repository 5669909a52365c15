import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fengari from 'fengari';

const { lua, lauxlib, lualib, to_luastring, to_jsstring } = fengari;

/** A Lua 5.3 VM (fengari) with the NodeMCU build loaded as global `hookline`. */
export function fengariWithBundle(bundlePath: string) {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const check = (status: number) => {
    if (status !== 0) throw new Error('lua: ' + to_jsstring(lua.lua_tostring(L, -1)));
  };
  check(lauxlib.luaL_loadbuffer(L, readFileSync(bundlePath), null, to_luastring('hookline')));
  check(lua.lua_pcall(L, 0, 1, 0));
  lua.lua_setglobal(L, to_luastring('hookline'));
  return {
    /** Run a chunk that returns one string. */
    eval(code: string): string {
      check(lauxlib.luaL_dostring(L, to_luastring(code)));
      const out = to_jsstring(lua.lua_tostring(L, -1));
      lua.lua_settop(L, 0);
      return out;
    },
  };
}

/** Path of a native Lua interpreter (Debian lua5.3 / lua5.1), or null when not installed. */
export function nativeLua(version: '5.1' | '5.3'): string | null {
  const r = spawnSync('sh', ['-c', `command -v lua${version}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Run `prelude` (which may use global `hookline`) in a native Lua and return its stdout. */
export function runNativeLua(interpreter: string, bundlePath: string, code: string): string {
  const script = `hookline = dofile(${JSON.stringify(bundlePath)})\n${code}`;
  return execFileSync(interpreter, ['-'], { input: script, encoding: 'utf8' });
}
