// A jobs-mode worker group (runners.scaling: jobs) belongs to the runner manager's fleeting
// plugin, as GitLab documents the AWS plugin's group: it starts empty, the plugin alone sets
// its desired capacity and removes its instances, and nothing else (a scaling policy, a
// schedule, a lifecycle hook, AZ rebalancing, capacity rebalancing) launches or removes them
// behind its back. Its instances run the CI jobs, so they carry no IAM role.
import { ROLE_TAG, type ResourceView, type Rule, type StackView } from "../types";

/** Resources that would scale or hold the group on their own. */
const COMPETING = ["aws_autoscaling_policy", "aws_autoscaling_schedule", "aws_autoscaling_lifecycle_hook"];

const isWorkerGroup = (group: ResourceView) =>
  [group.config.tag ?? []].flat().some((t: { key?: unknown; value?: unknown }) => t?.key === ROLE_TAG && t?.value === "runner-worker");

/** The launch template the group launches from (mixed instances or plain). */
function launchTemplate(stack: StackView, group: ResourceView): ResourceView | undefined {
  const mixed = [group.config.mixed_instances_policy ?? []].flat()[0];
  const spec = [mixed?.launch_template ?? []].flat()[0]?.launch_template_specification ?? group.config.launch_template;
  return stack.referenced([spec ?? []].flat()[0]?.launch_template_id);
}

/** What the group's own settings get wrong, one fix each. */
function settingProblems(group: ResourceView): string[] {
  const c = group.config;
  const ignored = [c.lifecycle?.ignore_changes ?? []].flat();
  const problems: string[] = [];
  if (c.min_size !== 0) problems.push("set min_size = 0 (the plugin scales to zero)");
  if (!ignored.includes("desired_capacity") && !ignored.includes("all"))
    problems.push("add desired_capacity to lifecycle.ignore_changes (the plugin owns it; an apply must not reset it under running jobs)");
  if (c.protect_from_scale_in !== true) problems.push("set protect_from_scale_in = true (only the plugin removes instances)");
  if (![c.suspended_processes ?? []].flat().includes("AZRebalance")) problems.push("suspend AZRebalance (it terminates instances the plugin gave jobs to)");
  if (c.capacity_rebalance === true) problems.push("set capacity_rebalance = false (it launches and removes instances behind the plugin)");
  if ([c.initial_lifecycle_hook ?? []].flat().length > 0) problems.push("remove initial_lifecycle_hook (a hook holds instances the plugin removes)");
  return problems;
}

function groupProblems(stack: StackView, group: ResourceView): string[] {
  const problems = settingProblems(group);
  for (const type of COMPETING) {
    for (const other of stack.ofType(type).filter((r) => stack.referenced(r.config.autoscaling_group_name) === group)) {
      problems.push(`remove ${other.path} (${type}): the plugin alone scales this group`);
    }
  }
  const template = launchTemplate(stack, group);
  if (template === undefined) problems.push("launch from an aws_launch_template of this stack, so its role can be checked");
  else if ([template.config.iam_instance_profile ?? []].flat().length > 0)
    problems.push(`remove iam_instance_profile from ${template.path}: CI jobs run on the workers (the manager presigns cache URLs)`);
  return problems;
}

const pluginOwnedWorkers: Rule = {
  id: "AWS-RUNNER-WORKER-GROUP",
  rationale: "The fleeting plugin must be the only thing that scales the worker group, and the workers that run CI jobs must hold no AWS credentials.",
  check: (stack) =>
    stack
      .ofType("aws_autoscaling_group")
      .filter(isWorkerGroup)
      .flatMap((resource) => groupProblems(stack, resource).map((p) => ({ resource, message: `runner worker group: ${p}` }))),
};

export const runnerWorkerRules = [pluginOwnedWorkers];
