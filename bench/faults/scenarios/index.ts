/** Every scenario of the campaign, in the order `all` runs them. */
import type { Scenario } from "../report.js";
import { clientKill } from "./client-kill.js";
import { hostileInputs } from "./hostile-inputs.js";
import { debugSleep, longOutage } from "./live-leases.js";
import { maxmemory } from "./maxmemory.js";
import { restartAof, restartNoAof } from "./restart.js";
import { scriptFlush } from "./script-flush.js";
import { sigkillStorm } from "./sigkill-storm.js";
import { waitfor2000 } from "./waitfor.js";

export const scenarios: readonly Scenario[] = [
  sigkillStorm,
  restartAof,
  restartNoAof,
  clientKill,
  debugSleep,
  longOutage,
  maxmemory,
  waitfor2000,
  scriptFlush,
  hostileInputs,
];
