/**
 * The dead-man switch of a session (constructs/session-expiry.ts): one one-time EventBridge
 * Scheduler schedule per node terminates that node at the deadline, which is fixed when the nodes
 * are created, with a role that may terminate nothing but the nodes; a failed call lands in a
 * dead-letter queue whose alarm mails budget.email. OpenTofu against moto runs it in
 * __tests__/integration/default-site.test.ts.
 */
import { describe, expect, it } from "vitest";
import { TALOS_SESSION_MAX_HOURS } from "../config/talos.js";
import { terminateInstancesTarget } from "../constructs/session-expiry.js";
import { configProblems, siteConfig, synthStack } from "./helpers/synth.js";

const stack = synthStack();
const resource = (type: string, name: string) => stack.resource[type]![name]!;

describe("session expiry", () => {
  it("exists only while nodes run: one deadline for any node count above 0, one schedule per node", () => {
    expect(resource("terraform_data", "talos_session").count).toBe("${min(1, var.talos_node_count)}");
    expect(resource("aws_scheduler_schedule", "talos_node_expiry").count).toBe("${var.talos_node_count}");
    expect(resource("aws_scheduler_schedule", "talos_node_expiry").name).toBe('${format("%s-%d", "deathstar-talos-node-expiry", (count.index + 1))}');
  });

  it("fixes the deadline at plan time when the nodes or the hours change, and keeps it otherwise", () => {
    const deadline = resource("terraform_data", "talos_session");
    expect(deadline.input).toEqual({ deadline: '${timeadd(plantimestamp(), format("%dh", var.talos_session_hours))}' });
    expect(deadline.lifecycle).toEqual({ ignore_changes: ["input"] });
    expect(deadline.triggers_replace).toEqual({ nodes: "${aws_instance.talos_node[*].id}", hours: "${var.talos_session_hours}" });
  });

  it("terminates each node alone at the deadline, in UTC, without a flexible window, through the partition's universal target", () => {
    const schedule = resource("aws_scheduler_schedule", "talos_node_expiry");
    expect(schedule.schedule_expression).toBe(`at(\${formatdate("YYYY-MM-DD'T'hh:mm:ss", one(terraform_data.talos_session[*].output.deadline))})`);
    expect(schedule.schedule_expression_timezone).toBe("UTC");
    expect(schedule.flexible_time_window).toEqual({ mode: "OFF" });
    expect(schedule.target).toMatchObject({
      arn: "arn:${data.aws_partition.current.partition}:scheduler:::aws-sdk:ec2:terminateInstances",
      role_arn: "${aws_iam_role.talos_node_expiry.arn}",
      // One id per call: TerminateInstances fails as a whole when one id of several is unknown.
      input: '${jsonencode({"InstanceIds" = [element(aws_instance.talos_node[*].id, count.index)]})}',
    });
    expect(terminateInstancesTarget("aws-cn")).toBe("arn:aws-cn:scheduler:::aws-sdk:ec2:terminateInstances");
  });

  it("sends a termination that still fails after its retries to an encrypted dead-letter queue, whose alarm mails budget.email", () => {
    const schedule = resource("aws_scheduler_schedule", "talos_node_expiry");
    expect(schedule.target).toMatchObject({
      retry_policy: { maximum_retry_attempts: 3, maximum_event_age_in_seconds: 3600 },
      dead_letter_config: { arn: "${aws_sqs_queue.talos_node_expiry_dead_letters.arn}" },
    });
    const queue = resource("aws_sqs_queue", "talos_node_expiry_dead_letters");
    expect(queue).toMatchObject({ name: "deathstar-talos-node-expiry-dead-letters", sqs_managed_sse_enabled: true, message_retention_seconds: 1209600 });
    expect(queue.fifo_queue).toBeUndefined();
    expect(resource("aws_cloudwatch_metric_alarm", "talos_node_expiry_failed")).toMatchObject({
      namespace: "AWS/SQS",
      metric_name: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: "${aws_sqs_queue.talos_node_expiry_dead_letters.name}" },
      comparison_operator: "GreaterThanThreshold",
      threshold: 0,
      treat_missing_data: "notBreaching",
      alarm_actions: ["${aws_sns_topic.talos_node_expiry_failed.arn}"],
    });
    const email = "lab-owner@example.org";
    const mailed = synthStack(siteConfig({ budget: { email } })).resource.aws_sns_topic_subscription!.talos_node_expiry_failed!;
    expect(mailed).toMatchObject({ topic_arn: "${aws_sns_topic.talos_node_expiry_failed.arn}", protocol: "email", endpoint: email });
  });

  it("runs as a role only Scheduler of this account assumes, allowed to terminate only instances tagged as nodes and to write only its dead-letter queue", () => {
    const trust = JSON.parse(resource("aws_iam_role", "talos_node_expiry").assume_role_policy as string);
    expect(trust.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": "${data.aws_caller_identity.current.account_id}" } },
      },
    ]);
    const policy = JSON.parse(resource("aws_iam_role_policy", "talos_node_expiry").policy as string);
    expect(policy.Statement).toEqual([
      {
        Sid: "TerminateTalosNodes",
        Effect: "Allow",
        Action: ["ec2:TerminateInstances"],
        Resource: "arn:${data.aws_partition.current.partition}:ec2:eu-west-1:${data.aws_caller_identity.current.account_id}:instance/*",
        Condition: { StringEquals: { "aws:ResourceTag/deathstar:role": "talos-node" } },
      },
      { Sid: "SendDeadLetters", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: "${aws_sqs_queue.talos_node_expiry_dead_letters.arn}" },
    ]);
    expect((resource("aws_instance", "talos_node").tags as Record<string, string>)["deathstar:role"]).toBe("talos-node");
  });

  it("takes its hours from talos.sessionHours as the default of -var talos_session_hours, validated to 1..max", () => {
    const variable = synthStack(siteConfig({ talos: { sessionHours: 5 } })).variable!.talos_session_hours!;
    expect(variable.default).toBe(5);
    expect(JSON.stringify(variable.validation)).toContain(`var.talos_session_hours <= ${TALOS_SESSION_MAX_HOURS}`);
  });

  it.each([0, TALOS_SESSION_MAX_HOURS + 1, 2.5])("refuses talos.sessionHours %s, naming the field", (hours) => {
    expect(configProblems({ talos: { sessionHours: hours } })).toEqual([expect.stringMatching(/^talos\.sessionHours: /)]);
  });
});
