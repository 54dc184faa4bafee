import { loadEnvironments } from "./config/load";
import { ConfigError } from "./config/errors";
try { const envs = loadEnvironments("config"); console.log(envs.map(e => e.name), JSON.stringify(envs[1]).slice(0,300)); } catch (e) { if (e instanceof ConfigError) console.log(e.message); else throw e; }
