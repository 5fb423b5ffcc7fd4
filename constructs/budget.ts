import { Construct } from "constructs";
import { BudgetsBudget, type BudgetsBudgetNotification } from "@cdktf/provider-aws/lib/budgets-budget";

/** Percent-of-limit alerts on actual spend; forecast alerts fire once the month's forecast crosses 100%. */
export const ACTUAL_THRESHOLDS = [50, 80, 100] as const;
export const FORECAST_THRESHOLDS = [100] as const;

/** Props of {@link MonthlyBudget}. */
export interface MonthlyBudgetProps {
  /** Budget name, unique in the account, e.g. "deathstar-aws-eu-west-1". */
  readonly name: string;
  /** Monthly limit in USD; AWS Budgets needs more than 0 (0.01 is its "zero spend" budget). */
  readonly limitUsd: number;
  /** Where the alerts go. */
  readonly email: string;
}

/**
 * An account-wide monthly cost budget with email alerts: the net under the cost model. Budgets
 * without actions are free, and alerts need no CloudWatch alarm (the design has no paid alarms).
 */
export class MonthlyBudget extends Construct {
  readonly budget: BudgetsBudget;

  constructor(scope: Construct, id: string, props: MonthlyBudgetProps) {
    super(scope, id);
    if (!(props.limitUsd > 0)) throw new Error(`MonthlyBudget ${props.name}: limitUsd must be more than 0, got ${props.limitUsd}`);
    this.budget = new BudgetsBudget(this, "monthly", {
      name: props.name,
      budgetType: "COST",
      timeUnit: "MONTHLY",
      limitAmount: props.limitUsd.toFixed(2),
      limitUnit: "USD",
      // Gross cost: credits would otherwise hide spend until they run out.
      costTypes: { includeCredit: false, includeRefund: false },
      notification: MonthlyBudget.notifications(props.email),
    });
    this.budget.overrideLogicalId("monthly");
  }

  private static notifications(email: string): BudgetsBudgetNotification[] {
    const alert = (notificationType: "ACTUAL" | "FORECASTED", threshold: number): BudgetsBudgetNotification => ({
      comparisonOperator: "GREATER_THAN",
      notificationType,
      threshold,
      thresholdType: "PERCENTAGE",
      subscriberEmailAddresses: [email],
    });
    return [...ACTUAL_THRESHOLDS.map((t) => alert("ACTUAL", t)), ...FORECAST_THRESHOLDS.map((t) => alert("FORECASTED", t))];
  }
}
