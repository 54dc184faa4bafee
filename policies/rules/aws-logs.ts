// CloudWatch Logs: every group expires its events.
import type { Rule } from "../types";

const retention: Rule = {
  id: "AWS-LOGS-RETENTION",
  rationale: "Log groups without retention keep every line forever: cost, and personal data kept past need.",
  check: (stack) =>
    stack
      .ofType("aws_cloudwatch_log_group")
      .filter((g) => !(typeof g.config.retention_in_days === "number" && g.config.retention_in_days > 0))
      .map((resource) => ({ resource, message: "set retention_in_days (the defaults: 30 days for application logs, 14 for system logs)" })),
};

export const logRules = [retention];
