// How many runner instances run on average, by usage model. The synthesized stack gives the
// group's bounds; how busy it is comes from the rate table's usage assumptions. A new model
// (e.g. "jobs": scale to zero, sized by hours of work a day and jobs an hour) is one more
// case here and one more variant of usage.runners in cost/rates.ts.
import type { RunnersUsage } from "./rates";

export interface GroupBounds {
  readonly minSize: number;
  readonly maxSize: number;
}

export interface Capacity {
  /** Instances always running. */
  readonly baseInstances: number;
  /** Average instances above the base, over the month. */
  readonly extraInstances: number;
  /** How the numbers were arrived at, for the report. */
  readonly explanation: string;
}

export function runnerCapacity(group: GroupBounds, usage: RunnersUsage): Capacity {
  switch (usage.model) {
    case "fleet": {
      const extra = Math.max(0, group.maxSize - group.minSize);
      return {
        baseInstances: group.minSize,
        extraInstances: extra * usage.extraCapacityShare,
        explanation: `${group.minSize} always on, ${extra} more ${Math.round(usage.extraCapacityShare * 100)} % of the time`,
      };
    }
  }
}
